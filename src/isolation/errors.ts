/**
 * Why the tripwire fired (reason codes only: they go to the audit log, the logs and the error
 * page's log line, so never a value).
 */
export type ViolationReason =
  /** The NIR blind index typed at login no longer names the session's account. */
  | 'login-identifier-mismatch'
  /** The session's row is not visible in its own account's context (RLS). */
  | 'session-not-owned'
  /** The session's account is not visible in its own context. */
  | 'no-account'
  /** The response carries data of an account other than the session's. */
  | 'carried-other-account'
  /** The response carries an account's data but no citizenRequest proved the session in this request. */
  | 'carried-unproven';

/** The response was withheld: a 500 error page with the incident reference is sent instead. */
export class IsolationViolationError extends Error {
  override name = 'IsolationViolationError';
  /** Read by the error handler: an error page, never the body that was about to leave. */
  readonly statusCode = 500;
  /** Set once the violation is audited and counted, so that it is counted once. */
  reported = false;
  readonly reason: ViolationReason;
  constructor(reason: ViolationReason) {
    super(`isolation violation (${reason}): response withheld`);
    this.reason = reason;
  }
}

/** citizenRequest without a live session: the citizen logs in again (the account area redirects to /login). */
export class NoSessionError extends Error {
  override name = 'NoSessionError';
  readonly statusCode = 401;
  constructor() {
    super('no live session for a citizen request');
  }
}
