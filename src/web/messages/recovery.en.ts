import type { recoveryFr } from './recovery.fr.ts';

export const recoveryEn: Record<keyof typeof recoveryFr, string> = {
};
