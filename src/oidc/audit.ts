import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { audit } from '../audit/log.ts';
import type { AuditEvent } from '../audit/catalogue.ts';
import type { Clock } from '../clock.ts';
import { system, UUID } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';

/**
 * The provider's events as audit events (src/audit/catalogue.ts, `oidc.*`): a citizen signed
 * in to a service (`oidc.authorized`, with the id of our session, which the login history
 * reads), an authorisation refused, tokens issued (grant type and which kinds, never a value),
 * tokens revoked, logout. Consent given, refused and withdrawn are recorded by consent.ts and
 * connected-services.ts in the transaction that changes the consent.
 *
 * The library emits its events synchronously and does not wait for listeners, so the events
 * are queued and written in the background, all those waiting in one transaction (one INSERT
 * of several rows, src/audit/log.ts): the token endpoint does no read and waits for no write,
 * and under load many grants share one insert. An event is therefore committed a few
 * milliseconds after the response that it records; a failed write is logged (event types and
 * counts only) and its events are lost. `settled()` waits for what is queued (shutdown, tests).
 */
export interface OidcAuditOptions {
  db: Database;
  clock: Clock;
  /** The Fastify request of a provider request (mount.ts): our session's id and the request id. */
  requests: WeakMap<IncomingMessage, FastifyRequest>;
  /** Our request id of each provider request (mount.ts, machine-endpoints.ts). */
  requestIds: WeakMap<IncomingMessage, string>;
  onError(err: unknown, types: string[]): void;
}

export interface OidcAudit {
  settled(): Promise<void>;
}

/** Most events one transaction writes; more wait for the next. */
const BATCH = 500;

const accountOf = (v: unknown): string | null => (typeof v === 'string' && UUID.test(v) ? v : null);
const scopeWords = (scope: string | undefined): string[] => (scope ?? '').split(' ').filter((s) => s !== '');

/** A background writer of audit events, one transaction per batch, one batch at a time. */
class AuditQueue {
  readonly #o: OidcAuditOptions;
  #queued: (AuditEvent | Promise<AuditEvent | null>)[] = [];
  #running: Promise<void> | null = null;

  constructor(o: OidcAuditOptions) {
    this.#o = o;
  }

  push(event: AuditEvent | Promise<AuditEvent | null>): void {
    this.#queued.push(event);
    // After the current tick: the events of one burst of requests go together.
    this.#running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#drain());
  }

  async #drain(): Promise<void> {
    while (this.#queued.length > 0) {
      const batch = this.#queued.splice(0, BATCH);
      const events = (await Promise.all(batch.map((e) => Promise.resolve(e).catch(() => null)))).filter((e): e is AuditEvent => e !== null);
      if (events.length === 0) continue;
      try {
        await system(this.#o.db, 'oidc-audit', async (tx) => {
          for (const event of events) await audit(tx, this.#o.clock, event);
        });
      } catch (err) {
        this.#o.onError(err, [...new Set(events.map((e) => e.type))]);
      }
    }
    this.#running = null;
  }

  async settled(): Promise<void> {
    while (this.#running) await this.#running;
  }
}

export function installOidcAudit(provider: Provider, o: OidcAuditOptions): OidcAudit {
  const queue = new AuditQueue(o);
  const requestOf = (ctx: KoaContextWithOIDC): FastifyRequest | undefined => o.requests.get(ctx.req);
  const requestId = (ctx: KoaContextWithOIDC): string | undefined => o.requestIds.get(ctx.req);
  /** Our session's id (already looked up by the login policy for this request: no extra read then). */
  const ourSession = async (ctx: KoaContextWithOIDC): Promise<{ id: string; accountId: string } | null> => {
    const request = requestOf(ctx);
    return request ? ((await request.session().catch(() => null)) ?? null) : null;
  };

  provider.on('authorization.success', (ctx) => {
    const client = ctx.oidc.client;
    const session = ctx.oidc.session;
    if (!client || !session) return;
    const accountId = accountOf(session.accountId);
    const grant = ctx.oidc.grant;
    const scopes = grant ? scopeWords(grant.getOIDCScopeFiltered(ctx.oidc.requestParamOIDCScopes)) : [];
    queue.push(
      ourSession(ctx).then((ours) => ({
        type: 'oidc.authorized',
        accountId,
        requestId: requestId(ctx),
        payload: { clientId: client.clientId, sessionId: ours && ours.accountId === accountId ? ours.id : null, acr: String(session.acr ?? ''), scopes },
      })),
    );
  });

  // Refusals of a known service's request (access_denied, login_required, consent_required…);
  // a request naming no valid client is nobody's sign-in and is not recorded.
  provider.on('authorization.error', (ctx, err) => {
    const client = ctx.oidc?.client;
    if (!client) return;
    let accountId: string | null = null;
    try {
      accountId = accountOf(ctx.oidc.session?.accountId);
    } catch {
      // No provider session loaded for this request.
    }
    queue.push({ type: 'oidc.authorization-refused', accountId, requestId: requestId(ctx), payload: { clientId: client.clientId, error: String(err.error ?? 'server_error') } });
  });

  // The token endpoint: everything from the context the grant left, no read, no wait.
  provider.on('grant.success', (ctx) => {
    const client = ctx.oidc.client;
    if (!client) return;
    const body = (typeof ctx.body === 'object' && ctx.body !== null ? ctx.body : {}) as Record<string, unknown>;
    queue.push({
      type: 'oidc.token-issued',
      accountId: accountOf(ctx.oidc.account?.accountId ?? ctx.oidc.grant?.accountId),
      requestId: requestId(ctx),
      payload: { clientId: client.clientId, grantType: String(ctx.oidc.params?.grant_type ?? ''), idToken: body.id_token !== undefined, refreshToken: body.refresh_token !== undefined },
    });
  });

  // The revocation endpoint (and a replayed refresh token, which the library destroys).
  const revoked = (token: { kind: string; clientId?: string | undefined; accountId?: string | undefined }): void => {
    if (!token.clientId) return;
    // The library passes no context with this event: the request's own, where there is one.
    const req = Provider.ctx?.req;
    queue.push({ type: 'oidc.token-revoked', accountId: accountOf(token.accountId), requestId: req ? o.requestIds.get(req) : undefined, payload: { clientId: token.clientId, kind: token.kind } });
  };
  provider.on('access_token.destroyed', revoked);
  provider.on('refresh_token.destroyed', revoked);
  provider.on('client_credentials.destroyed', revoked);

  provider.on('end_session.success', (ctx) => {
    const clientId = ctx.oidc.client?.clientId ?? null;
    let providerAccount: string | null = null;
    try {
      providerAccount = accountOf(ctx.oidc.session?.accountId);
    } catch {
      // The provider session is gone already.
    }
    queue.push(
      ourSession(ctx).then((ours) => {
        const accountId = providerAccount ?? ours?.accountId ?? null;
        return { type: 'oidc.logout', accountId, requestId: requestId(ctx), payload: { clientId, sessionId: ours && ours.accountId === accountId ? ours.id : null } };
      }),
    );
  });

  return { settled: () => queue.settled() };
}
