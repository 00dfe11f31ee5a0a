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
 * The response's parameters: `error`, `error_description`, `state` when the request carried
 * one, and `iss` (RFC 9207: the provider advertises it on every response, and a relying party
 * that checks it would refuse an answer without it).
 */
export function oidcAccessRefusalFields(o: { issuer: string; state?: string | null }): [string, string][] {
  const fields: [string, string][] = [
    ['error', OIDC_CLOSED_ERROR],
    ['error_description', OIDC_CLOSED_DESCRIPTION],
  ];
  if (o.state !== undefined && o.state !== null && o.state !== '') fields.push(['state', o.state]);
  fields.push(['iss', o.issuer]);
  return fields;
}

/**
 * The redirect URL: the registered redirect_uri with those fields added to its query (its own
 * query parameters kept, any fragment dropped: RFC 6749 §3.1.2 forbids one).
 */
export function oidcAccessRefusal(o: { redirectUri: string; issuer: string; state?: string | null }): string {
  const url = new URL(o.redirectUri);
  url.hash = '';
  for (const [name, value] of oidcAccessRefusalFields(o)) url.searchParams.append(name, value);
  return url.toString();
}
