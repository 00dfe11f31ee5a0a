import type { totpFr } from './totp.fr.ts';

export const totpEn: Record<keyof typeof totpFr, string> = {
};
