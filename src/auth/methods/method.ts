/**
 * Authentication methods share one vocabulary: a flow records the ids of the methods its
 * citizen completed, and a submission names the method it is for in an explicit `method`
 * field (DESIGN principle 4), never found by asking each method in turn.
 */
export const METHOD_IDS = ['password', 'email-code', 'passkey', 'totp', 'recovery-code', 'device-approval'] as const;
export type MethodId = (typeof METHOD_IDS)[number];

export const isMethodId = (value: unknown): value is MethodId => typeof value === 'string' && (METHOD_IDS as readonly string[]).includes(value);

