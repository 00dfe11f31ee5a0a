/** Messages of the recovery pages (French, the reference). */
export const recoveryFr = {
} satisfies Record<string, string>;
