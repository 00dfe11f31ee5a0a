/**
 * How an OpenID Connect authorisation request is refused while citizen access is closed
 * (RFC 6749 §4.1.2.1): once the client and its redirect_uri are validated — never before,
 * or this becomes an open redirect — the browser goes back to the client with
 * `error=temporarily_unavailable`, so the service can tell its user instead of showing our
 * maintenance page inside its flow. The provider (issue 7) calls it; nothing here validates
 * clients.
 */
export const OIDC_CLOSED_ERROR = 'temporarily_unavailable';
export const OIDC_CLOSED_DESCRIPTION = 'Sesame sign-in is temporarily unavailable; please try again later.';

/**
 * The redirect URL: the registered redirect_uri with `error`, `error_description` and, when
 * the request carried one, `state` added to its query (its own query parameters kept, any
 * fragment dropped: RFC 6749 §3.1.2 forbids one).
 */
export function oidcAccessRefusal(o: { redirectUri: string; state?: string | null }): string {
  const url = new URL(o.redirectUri);
  url.hash = '';
  url.searchParams.append('error', OIDC_CLOSED_ERROR);
  url.searchParams.append('error_description', OIDC_CLOSED_DESCRIPTION);
  if (o.state !== undefined && o.state !== null && o.state !== '') url.searchParams.append('state', o.state);
  return url.toString();
}
