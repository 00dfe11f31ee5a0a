import type { passkeyFr } from './passkey.fr.ts';

export const passkeyEn: Record<keyof typeof passkeyFr, string> = {
};
