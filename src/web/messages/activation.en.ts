import type { activationFr } from './activation.fr.ts';

export const activationEn: Record<keyof typeof activationFr, string> = {
};
