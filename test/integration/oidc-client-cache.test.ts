import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import type { Database, ListenHandlers } from '../../src/db/database.ts';
import { CLIENT_CACHE_TTL_MS, ClientCache } from '../../src/oidc/client-adapter.ts';
import { CLIENTS_CHANNEL } from '../../src/oidc/clients.ts';
import { backends } from '../support/databases.ts';
import { cliWorkspace, type CliWorkspace } from '../support/cli-workspace.ts';
import { sesame } from '../support/cli.ts';
import { oidcTestServer, type OidcTestServer } from '../support/oidc-provider.ts';
import type { OpenDatabase } from '../../src/db/open.ts';

/**
 * The provider's client cache (src/oidc/client-adapter.ts): a disabled client or a rotated
 * secret must stop working as promptly as when the registry was read on every request. It
 * serves only while the database says it listens for client changes, evicts a client on each
 * notification, and forgets everything when the listener goes down.
 */
describe('ClientCache: when it may serve from memory', () => {
  const fakeDb = (): { db: Database; h: () => ListenHandlers } => {
    let handlers: ListenHandlers | undefined;
    const db = {
      listen: (channel: string, h: ListenHandlers) => {
        assert.equal(channel, CLIENTS_CHANNEL);
        handlers = h;
        return async () => undefined;
      },
    } as unknown as Database;
    return { db, h: () => handlers as ListenHandlers };
  };
  const counting = (): { load: () => Promise<Record<string, unknown>>; count: () => number } => {
    let n = 0;
    return { load: async () => ({ client_id: 'c', n: ++n }), count: () => n };
  };

  test('not listening yet: every lookup reads the registry', async () => {
    const { db } = fakeDb();
    const cache = new ClientCache(db, new ManualClock());
    const { load, count } = counting();
    await cache.find('c', load);
    await cache.find('c', load);
    assert.equal(count(), 2);
    assert.equal(cache.size, 0);
  });

  test('listening: kept until a notification names it (or all: *), a copy each time', async () => {
    const { db, h } = fakeDb();
    const cache = new ClientCache(db, new ManualClock());
    h().onState(true);
    const { load, count } = counting();
    const first = await cache.find('c', load);
    const second = await cache.find('c', load);
    assert.equal(count(), 1);
    assert.deepEqual(second, first);
    assert.notEqual(second, first, 'a copy');
    h().onMessage('other-client');
    await cache.find('c', load);
    assert.equal(count(), 1);
    h().onMessage('c');
    await cache.find('c', load);
    assert.equal(count(), 2);
    h().onMessage('*');
    await cache.find('c', load);
    assert.equal(count(), 3);
  });

  test('the listener lost: everything forgotten, and nothing kept until it is back', async () => {
    const { db, h } = fakeDb();
    const cache = new ClientCache(db, new ManualClock());
    h().onState(true);
    const { load, count } = counting();
    await cache.find('c', load);
    h().onState(false);
    assert.equal(cache.size, 0);
    await cache.find('c', load);
    await cache.find('c', load);
    assert.equal(count(), 3);
    assert.equal(cache.size, 0);
    h().onState(true);
    await cache.find('c', load);
    await cache.find('c', load);
    assert.equal(count(), 4);
  });

  test('a lookup that was reading when a change arrived is not kept', async () => {
    const { db, h } = fakeDb();
    const cache = new ClientCache(db, new ManualClock());
    h().onState(true);
    const slow = cache.find('c', async () => {
      h().onMessage('c'); // committed while the row was being read
      return { client_id: 'c' };
    });
    await slow;
    assert.equal(cache.size, 0);
  });

  test('an unknown or disabled client is never cached; an entry lives CLIENT_CACHE_TTL_MS at most', async () => {
    const { db, h } = fakeDb();
    const clock = new ManualClock();
    const cache = new ClientCache(db, clock);
    h().onState(true);
    await cache.find('gone', async () => undefined);
    assert.equal(cache.size, 0);
    const { load, count } = counting();
    await cache.find('c', load);
    clock.advance(CLIENT_CACHE_TTL_MS - 1);
    await cache.find('c', load);
    assert.equal(count(), 1);
    clock.advance(1);
    await cache.find('c', load);
    assert.equal(count(), 2);
  });
});

/**
 * The real thing on PostgreSQL: the app's provider and `sesame clients` as another database
 * client (its own pool and connections, as a command run on another machine would be), so the
 * change reaches the server's cache only through NOTIFY.
 */
for (const backend of backends().filter((b) => b.name === 'postgres')) {
  describe(`client cache across processes on ${backend.name}`, { skip: backend.skip }, () => {
    let ws: CliWorkspace;
    let db: OpenDatabase;
    let server: OidcTestServer;
    let su: OpenDatabase;

    const token = (id: string, secret: string): Promise<number> =>
      fetch(`${server.issuer}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      }).then(async (r) => (await r.arrayBuffer(), r.status));
    /** Polls for up to 2 s until the request gets the status. */
    const within2s = async (request: () => Promise<number>, status: number): Promise<void> => {
      const deadline = Date.now() + 2000;
      let last = 0;
      while (Date.now() < deadline) {
        last = await request();
        if (last === status) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(last, status, 'not within 2 s');
    };
    /**
     * Resolves once the server's listener has delivered every notification sent so far: the
     * test's own NOTIFY comes after them (PostgreSQL delivers in commit order), on the server's
     * own listening connection (one per Database, so its handlers see it in the same turn as the
     * cache does).
     */
    const notificationsDelivered = async (): Promise<void> => {
      const marker = `test-marker-${Math.random().toString(36).slice(2)}`;
      let seen!: () => void;
      const delivered = new Promise<void>((resolve) => (seen = resolve));
      const stop = db.listen(CLIENTS_CHANNEL, { onMessage: (id) => void (id === marker && seen()), onState: () => undefined });
      try {
        await listening();
        await su.runAsOwner((q) => q.query(`SELECT pg_notify($1, $2)`, [CLIENTS_CHANNEL, marker]));
        await delivered;
      } finally {
        await stop();
      }
    };
    const machineClient = async (): Promise<{ id: string; secret: string }> => {
      const created = await sesame(['clients', 'create', '--name', 'Batch', '--scopes', 'openid', '--client-credentials', '--auth-method', 'client_secret_basic', '--json'], ws.env);
      assert.equal(created.code, 0, created.stderr);
      const c = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
      // The creation is notified too; a lookup still reading when it arrives is not kept, so
      // what the tests below say of "from memory" holds only once it has been delivered.
      await notificationsDelivered();
      return { id: c.client_id, secret: c.client_secret };
    };
    /** The server's listening connection is there. */
    const listening = async (): Promise<void> => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const { rows } = await su.runAsOwner((q) => q.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database()  AND application_name = 'sesame:listen'`));
        if ((rows[0] as { n: number }).n > 0) return;
        assert.ok(Date.now() < deadline, 'the server never listened');
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    before(async () => {
      ws = await cliWorkspace(backend, { prefix: 'sesame-client-cache-', user: 'ops.durand' });
      db = await ws.open({ poolSize: 2 });
      su = await ws.open({ poolSize: 1 });
      server = await oidcTestServer({ db, ring: ws.ring });
      await listening();
    });
    after(async () => {
      await server?.close();
      await db?.close();
      await su?.close();
      await ws?.close();
    });

    test('a client disabled by `sesame clients disable` elsewhere is refused within 2 s', async () => {
      const c = await machineClient();
      assert.equal(await token(c.id, c.secret), 200);
      assert.equal(await token(c.id, c.secret), 200); // now from memory
      assert.equal((await sesame(['clients', 'disable', '--client-id', c.id], ws.env)).code, 0);
      await within2s(() => token(c.id, c.secret), 401);
    });

    test('after `sesame clients rotate-secret` elsewhere the old secret is refused within 2 s, the new one works', async () => {
      const c = await machineClient();
      assert.equal(await token(c.id, c.secret), 200);
      assert.equal(await token(c.id, c.secret), 200);
      const rotated = await sesame(['clients', 'rotate-secret', '--client-id', c.id, '--json'], ws.env);
      assert.equal(rotated.code, 0, rotated.stderr);
      const fresh = (JSON.parse(rotated.stdout) as { client_secret: string }).client_secret;
      await within2s(() => token(c.id, c.secret), 401);
      assert.equal(await token(c.id, fresh), 200);
    });

    test('an operator’s own SQL on oidc_clients is notified too (trigger)', async () => {
      const c = await machineClient();
      assert.equal(await token(c.id, c.secret), 200);
      await su.runAsOwner((q) => q.query(`UPDATE oidc_clients SET disabled_at = now() WHERE client_id = $1`, [c.id]));
      await within2s(() => token(c.id, c.secret), 401);
    });

    test('the listener down: no caching (a change nobody notified is seen at once)', async () => {
      const c = await machineClient();
      assert.equal(await token(c.id, c.secret), 200);
      // A change that notifies no one: while the server listens, its cache still has the client…
      await su.runAsOwner(async (q) => {
        await q.query(`ALTER TABLE oidc_clients DISABLE TRIGGER oidc_clients_changed`);
        try {
          await q.query(`UPDATE oidc_clients SET disabled_at = now() WHERE client_id = $1`, [c.id]);
        } finally {
          await q.query(`ALTER TABLE oidc_clients ENABLE TRIGGER oidc_clients_changed`);
        }
      });
      assert.equal(await token(c.id, c.secret), 200, 'served from memory (what the notifications are for)');
      // …and once its listening connection is gone, it reads the registry again.
      await su.runAsOwner((q) => q.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'sesame:listen'`));
      await within2s(() => token(c.id, c.secret), 401);
      // It listens again by itself.
      await listening();
    });
  });
}
