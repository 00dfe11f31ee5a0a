/** Approval on another device (the /device page, the login's waiting page). */
export const deviceFr = {
} as const;
