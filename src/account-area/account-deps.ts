import type { AuthDeps } from '../auth/auth-deps.ts';
import type { OidcStore } from '../oidc/adapter.ts';

/**
 * What "My Account" needs: the login's own dependencies. The security page checks the
 * current password with the login's verifier and throttle policy, so that it is no easier a
 * place to guess a password than /login.
 */
export type AccountDeps = AuthDeps & {
  /** The OpenID provider's store: a withdrawn consent's grant is revoked through it (connected-services.ts). */
  oidcStore: OidcStore;
  /** How long a change of bank details waits before it takes effect (config SESAME_BANK_HOLD_SECONDS; default 3 days). */
  bankHoldSeconds?: number;
};
