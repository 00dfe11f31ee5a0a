import type { AuthDeps } from '../auth/auth-deps.ts';

/**
 * What "My Account" needs: the login's own dependencies. The security page checks the
 * current password with the login's verifier and throttle policy, so that it is no easier a
 * place to guess a password than /login.
 */
export type AccountDeps = AuthDeps;
