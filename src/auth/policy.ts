import { z } from 'zod';
import { DEFAULT_ARGON2, type Argon2Params } from '../crypto/passwords.ts';

/**
 * Every rule of the login, in one place, each overridable from the environment
 * (docs/configuration.md). Durations are in seconds.
 */
export interface AuthPolicy {
  /** The agency's rule is 15 minutes; ASVS 2.7.3 / NIST 800-63B advise at most 10. */
  codeTtl: number;
  codeMaxAttempts: number;
  codeResendCooldown: number;
  codesPerFlow: number;
  codesPerAccountPerHour: number;
  /** Codes activation and recovery (pages anyone may use with a NIR) send one account per hour. */
  unauthenticatedCodesPerAccountPerHour: number;
  /** Wrong codes across an account's login flows in 24 hours before no more codes are sent. */
  codeFailuresPerAccountPerDay: number;
  /** How long a login, activation or recovery flow lives, from its start. */
  flowTtl: number;
  /** Consecutive failures before delays start; then the delay doubles from accountBaseDelay. */
  accountFreeFailures: number;
  accountBaseDelay: number;
  accountMaxDelay: number;
  /** After this many consecutive failures the account can only log in again after recovery. */
  accountRecoveryAfter: number;
  /** Failures from one client address, across accounts, within ipWindow (credential stuffing). */
  ipMaxFailures: number;
  ipWindow: number;
  sessionIdle: number;
  sessionAbsolute: number;
  /** Sensitive operations need eidas2 obtained within this long (and a fresh email code as recent, where one is asked). */
  stepUpMaxAge: number;
  /** A new authenticator opens sensitive operations only after this long, unless added from an eidas2 session. */
  coolingOff: number;
  /** A device approval request lives this long; at most approvalsPerWindow requests per account per approvalWindow. */
  approvalTtl: number;
  approvalsPerWindow: number;
  approvalWindow: number;
  argon2: Argon2Params;
}

export const DEFAULT_AUTH_POLICY: AuthPolicy = {
  codeTtl: 15 * 60,
  codeMaxAttempts: 5,
  codeResendCooldown: 60,
  codesPerFlow: 3,
  codesPerAccountPerHour: 10,
  unauthenticatedCodesPerAccountPerHour: 5,
  codeFailuresPerAccountPerDay: 20,
  flowTtl: 30 * 60,
  accountFreeFailures: 5,
  accountBaseDelay: 30,
  accountMaxDelay: 15 * 60,
  accountRecoveryAfter: 100,
  ipMaxFailures: 50,
  ipWindow: 15 * 60,
  sessionIdle: 30 * 60,
  sessionAbsolute: 12 * 60 * 60,
  stepUpMaxAge: 5 * 60,
  coolingOff: 24 * 60 * 60,
  approvalTtl: 2 * 60,
  approvalsPerWindow: 3,
  approvalWindow: 10 * 60,
  argon2: DEFAULT_ARGON2,
};

/** Environment variable → policy field. */
export const AUTH_POLICY_VARIABLES = {
  SESAME_CODE_TTL_SECONDS: 'codeTtl',
  SESAME_CODE_MAX_ATTEMPTS: 'codeMaxAttempts',
  SESAME_CODE_RESEND_COOLDOWN_SECONDS: 'codeResendCooldown',
  SESAME_CODES_PER_FLOW: 'codesPerFlow',
  SESAME_CODES_PER_ACCOUNT_PER_HOUR: 'codesPerAccountPerHour',
  SESAME_UNAUTHENTICATED_CODES_PER_ACCOUNT_PER_HOUR: 'unauthenticatedCodesPerAccountPerHour',
  SESAME_CODE_FAILURES_PER_ACCOUNT_PER_DAY: 'codeFailuresPerAccountPerDay',
  SESAME_FLOW_TTL_SECONDS: 'flowTtl',
  SESAME_THROTTLE_FREE_FAILURES: 'accountFreeFailures',
  SESAME_THROTTLE_BASE_DELAY_SECONDS: 'accountBaseDelay',
  SESAME_THROTTLE_MAX_DELAY_SECONDS: 'accountMaxDelay',
  SESAME_THROTTLE_RECOVERY_AFTER: 'accountRecoveryAfter',
  SESAME_THROTTLE_IP_MAX_FAILURES: 'ipMaxFailures',
  SESAME_THROTTLE_IP_WINDOW_SECONDS: 'ipWindow',
  SESAME_SESSION_IDLE_SECONDS: 'sessionIdle',
  SESAME_SESSION_ABSOLUTE_SECONDS: 'sessionAbsolute',
  SESAME_STEP_UP_MAX_AGE_SECONDS: 'stepUpMaxAge',
  SESAME_COOLING_OFF_SECONDS: 'coolingOff',
  SESAME_APPROVAL_TTL_SECONDS: 'approvalTtl',
  SESAME_APPROVALS_PER_WINDOW: 'approvalsPerWindow',
  SESAME_APPROVAL_WINDOW_SECONDS: 'approvalWindow',
} as const satisfies Record<string, Exclude<keyof AuthPolicy, 'argon2'>>;

export const ARGON2_VARIABLES = {
  SESAME_ARGON2_MEMORY_KIB: 'memoryCost',
  SESAME_ARGON2_TIME_COST: 'timeCost',
  SESAME_ARGON2_PARALLELISM: 'parallelism',
} as const satisfies Record<string, keyof Argon2Params>;

const positiveInt = z.string().trim().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(1).max(10_000_000));

/** Reads the overrides; returns the name of the first bad variable instead of echoing it. */
export function authPolicyFromEnv(env: NodeJS.ProcessEnv): { policy: AuthPolicy } | { variable: string; message: string } {
  const policy: AuthPolicy = { ...DEFAULT_AUTH_POLICY, argon2: { ...DEFAULT_AUTH_POLICY.argon2 } };
  for (const [variable, field] of Object.entries(AUTH_POLICY_VARIABLES)) {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === '') continue;
    const parsed = positiveInt.safeParse(raw);
    if (!parsed.success) return { variable, message: 'must be a whole number from 1' };
    policy[field] = parsed.data;
  }
  for (const [variable, field] of Object.entries(ARGON2_VARIABLES)) {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === '') continue;
    const parsed = positiveInt.safeParse(raw);
    if (!parsed.success) return { variable, message: 'must be a whole number from 1' };
    policy.argon2[field] = parsed.data;
  }
  if (policy.argon2.memoryCost < 8 * policy.argon2.parallelism) return { variable: 'SESAME_ARGON2_MEMORY_KIB', message: 'must be at least 8 KiB per lane' };
  if (policy.sessionIdle > policy.sessionAbsolute) return { variable: 'SESAME_SESSION_IDLE_SECONDS', message: 'must not exceed SESAME_SESSION_ABSOLUTE_SECONDS' };
  return { policy };
}
