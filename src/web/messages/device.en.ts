import type { deviceFr } from './device.fr.ts';

export const deviceEn: Record<keyof typeof deviceFr, string> = {
};
