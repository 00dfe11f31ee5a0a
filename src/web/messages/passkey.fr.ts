/** Passkeys (WebAuthn): login, enrolment, step-up. */
export const passkeyFr = {
} as const;
