import { errors, type Adapter, type AdapterFactory, type AdapterPayload } from 'oidc-provider';
import { system } from '../db/contexts.ts';
import { PgAdapter, type OidcStore } from './adapter.ts';
import { enabledClientMetadata } from './clients.ts';

/**
 * The provider's Client model, read from the registry (`sesame clients …`) instead of
 * oidc_payloads. Clients are registered by operators only: dynamic registration stays off,
 * so the provider never writes one.
 */
export class RegistryClientAdapter implements Adapter {
  readonly #store: OidcStore;
  constructor(store: OidcStore) {
    this.#store = store;
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(id)) return undefined;
    return (await system(this.#store.db, 'oidc:client', (tx) => enabledClientMetadata(tx, id))) as AdapterPayload | undefined;
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
 * from the registry, every other model in oidc_payloads.
 */
export function providerAdapter(store: OidcStore): AdapterFactory {
  return (name: string) => (name === 'Client' ? new RegistryClientAdapter(store) : new PgAdapter(name, store));
}
