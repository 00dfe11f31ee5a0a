/** Authenticator app (TOTP) and recovery codes. */
export const totpFr = {
} as const;
