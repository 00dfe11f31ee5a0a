import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Provider from 'oidc-provider';
import type { Configuration } from 'oidc-provider';
import { systemClock } from '../../src/clock.ts';
import type { KeyRing } from '../../src/crypto/keyring.ts';
import type { OpenDatabase } from '../../src/db/open.ts';
import { createOidcProvider } from '../../src/oidc/provider.ts';
import { createOidcStore } from '../../src/oidc/adapter.ts';

/** The real oidc-provider on our registry and adapter, listening on 127.0.0.1 (any free port). */
export interface OidcTestServer {
  issuer: string;
  provider: Provider;
  close(): Promise<void>;
}

export interface OidcTestServerOptions {
  db: OpenDatabase;
  ring: KeyRing;
  /** Laid over the provider's settings (findAccount…). */
  configuration?: Configuration;
  /** What answers the requests; the provider's own callback when absent. */
  listener?: (provider: Provider, callback: RequestListener) => RequestListener;
}

/** A fresh ES256 signing key and cookie key each time: nothing is shared between suites. */
export async function oidcTestServer(o: OidcTestServerOptions): Promise<OidcTestServer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const provider = createOidcProvider({
    issuer,
    store: createOidcStore({ db: o.db, ring: o.ring, clock: systemClock }),
    signingKeys: [{ ...signing, alg: 'ES256', use: 'sig', kid: 'test-es256' }],
    cookieKeys: [randomBytes(32).toString('base64url')],
    ...(o.configuration ? { configuration: o.configuration } : {}),
  });
  const callback = provider.callback() as RequestListener;
  server.on('request', o.listener ? o.listener(provider, callback) : callback);
  return {
    issuer,
    provider,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
