/**
 * The console's time limits. Shorter than a citizen's: a staff session can close the service.
 */
export const STAFF_POLICY = {
  /** A session unused this long ends (seconds). */
  sessionIdle: 15 * 60,
  /** A session ends this long after login, used or not (seconds). */
  sessionAbsolute: 8 * 3600,
  /** Every action needs a passkey assertion at most this old (seconds). */
  stepUpMaxAge: 5 * 60,
  /** An enrolment code printed by `sesame staff create` (seconds). */
  enrolmentCodeTtl: 24 * 3600,
  /** A WebAuthn ceremony (browser UIs allow two minutes; a step-up page may wait a little). */
  ceremonyTtl: 10 * 60,
  /**
   * Failed enrolment codes and logins from one client address within throttleWindow, before it
   * is refused (429) until the window ends. Few: a handful of operators, each with one passkey.
   */
  clientMaxFailures: 10,
  /** Failed passkey assertions naming one staff account within throttleWindow: its assertions wait for the window's end. */
  staffMaxFailures: 5,
  /** The throttles' window (seconds); no longer than the citizens' ipWindow, whose housekeeping deletes older rows of client_throttle. */
  throttleWindow: 15 * 60,
} as const;

export type StaffPolicy = typeof STAFF_POLICY;

export const STAFF_ROLES = ['operator'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export const LOGIN = /^[a-z][a-z0-9._-]{1,39}$/;
export const DISPLAY_NAME_MAX = 100;
