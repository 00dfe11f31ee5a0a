import { errors, type Adapter, type AdapterFactory, type AdapterPayload } from 'oidc-provider';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { inOneTrip, PgAdapter, type OidcStore } from './adapter.ts';
import { CLIENTS_CHANNEL, enabledClientMetadata } from './clients.ts';

/** At most this long without a word from the database (a lost notification), a client's metadata is read again. */
export const CLIENT_CACHE_TTL_MS = 60_000;
/** Registered clients only are cached (never an unknown id), so this bounds nothing but a mistake. */
const CLIENT_CACHE_MAX = 10_000;

/**
 * The enabled clients' metadata, kept in memory so that the token and userinfo endpoints do
 * not read the registry on every request. One instance per provider, never module-level.
 *
 * What it holds is what the registry says of a client (its redirect URIs, scopes, the MAC of
 * its secret, never the secret): nothing about a citizen. What matters is that a disabled
 * client or a rotated secret stops working as promptly as when the registry was read on each
 * request:
 * - every change of a client is notified on CLIENTS_CHANNEL at its commit (clients.ts, and a
 *   trigger for any other writer, migration 029); the client is evicted when it arrives
 *   (another process: a few milliseconds; this process: before the command returns);
 * - the cache serves only while the database says it listens: before the listener is
 *   connected, after it is lost and until it is back (notifications may have been missed
 *   meanwhile), every lookup reads the registry, and the cache is emptied at each change;
 * - a lookup that was reading while a notification or a change of state arrived is not kept
 *   (it may have read the row before the change);
 * - an entry lives CLIENT_CACHE_TTL_MS at most, in case a notification is lost unseen;
 * - an unknown or disabled client is never cached: it is read each time, as before.
 */
export class ClientCache {
  readonly #entries = new Map<string, { json: string; until: number }>();
  readonly #clock: Clock;
  #listening = false;
  #generation = 0;
  readonly stop: () => Promise<void>;

  constructor(db: Database, clock: Clock) {
    this.#clock = clock;
    this.stop = db.listen(CLIENTS_CHANNEL, {
      onMessage: (clientId) => {
        this.#generation++;
        if (clientId === '*') this.#entries.clear();
        else this.#entries.delete(clientId);
      },
      onState: (listening) => {
        this.#generation++;
        this.#listening = listening;
        this.#entries.clear();
      },
    });
  }

  /** Whether lookups may be served from memory now (the listener is connected). */
  get listening(): boolean {
    return this.#listening;
  }

  get size(): number {
    return this.#entries.size;
  }

  async find(clientId: string, load: () => Promise<Record<string, unknown> | undefined>): Promise<Record<string, unknown> | undefined> {
    if (!this.#listening) return load();
    const now = this.#clock.now().getTime();
    const hit = this.#entries.get(clientId);
    // A copy each time: the provider may do what it likes with what it is given.
    if (hit && hit.until > now) return JSON.parse(hit.json) as Record<string, unknown>;
    const generation = this.#generation;
    const metadata = await load();
    if (metadata && this.#listening && generation === this.#generation && (hit || this.#entries.size < CLIENT_CACHE_MAX)) {
      this.#entries.set(clientId, { json: JSON.stringify(metadata), until: now + CLIENT_CACHE_TTL_MS });
    }
    return metadata;
  }
}

/**
 * The provider's Client model, read from the registry (`sesame clients …`) instead of
 * oidc_payloads, through the provider's ClientCache. Clients are registered by operators
 * only: dynamic registration stays off, so the provider never writes one.
 */
export class RegistryClientAdapter implements Adapter {
  readonly #store: OidcStore;
  readonly #cache: ClientCache | undefined;
  /** Without a cache, the registry is read on every lookup. */
  constructor(store: OidcStore, cache?: ClientCache) {
    this.#store = store;
    this.#cache = cache;
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(id)) return undefined;
    const { db } = this.#store;
    const load = (): Promise<Record<string, unknown> | undefined> => inOneTrip(db, 'oidc:client', (tx) => enabledClientMetadata(tx, id));
    return (await (this.#cache ? this.#cache.find(id, load) : load())) as AdapterPayload | undefined;
  }
  upsert(): Promise<void> {
    return Promise.reject(new errors.InvalidRequest('clients are registered with `sesame clients create`'));
  }
  destroy(): Promise<void> {
    return Promise.reject(new errors.InvalidRequest('clients are disabled with `sesame clients disable`'));
  }
  consume(): Promise<void> {
    return Promise.reject(new TypeError('a client is not consumable'));
  }
  findByUid(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  findByUserCode(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  revokeByGrantId(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The adapter option of `new Provider(issuer, { adapter: providerAdapter(store) })`: clients
 * from the registry (one cache for the provider), every other model in oidc_payloads.
 */
export function providerAdapter(store: OidcStore): AdapterFactory {
  // Listening from the provider's creation on, not from its first client lookup.
  const cache = new ClientCache(store.db, store.clock);
  return (name: string) => (name === 'Client' ? new RegistryClientAdapter(store, cache) : new PgAdapter(name, store));
}
