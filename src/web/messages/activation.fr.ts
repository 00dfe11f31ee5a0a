/** Messages of the activation pages (French, the reference). */
export const activationFr = {
} satisfies Record<string, string>;
