/**
 * The kill switch's scopes: `citizens` (every citizen page, logins, citizen sessions) and
 * `staff` (the operator console, everything under CONSOLE_PREFIX). `all` is both.
 */
export const ACCESS_SCOPES = ['citizens', 'staff'] as const;
export type AccessScope = (typeof ACCESS_SCOPES)[number];
export type ScopeChoice = AccessScope | 'all';
export const SCOPE_CHOICES: readonly ScopeChoice[] = ['citizens', 'staff', 'all'];

/** Where the operator console lives; the gate answers the staff scope's state there. */
export const CONSOLE_PREFIX = '/console';

export const isScopeChoice = (value: unknown): value is ScopeChoice => typeof value === 'string' && (SCOPE_CHOICES as readonly string[]).includes(value);

export const scopesOf = (choice: ScopeChoice): AccessScope[] => (choice === 'all' ? [...ACCESS_SCOPES] : [choice]);

/** The scope a request path belongs to (a path without its query). */
export const scopeOfPath = (path: string): AccessScope => (path === CONSOLE_PREFIX || path.startsWith(`${CONSOLE_PREFIX}/`) ? 'staff' : 'citizens');
