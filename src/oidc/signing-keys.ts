import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { JWK } from 'oidc-provider';
import type { Clock } from '../clock.ts';
import { actorOf, audit } from '../audit/log.ts';
import { system, type Tx } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';
import { open, seal } from '../crypto/envelope.ts';
import type { KeyRing } from '../crypto/keyring.ts';

/**
 * The provider's signing keys (ID tokens, JWT userinfo…), kept in `oidc_signing_keys` with their
 * private part sealed by the key file's KEK. ES256 signs by default; RS256 is there for the
 * clients registered with it.
 *
 * A key's life is told by its timestamps, so every process computes the same key set from the
 * database and its clock, with nothing to coordinate:
 *
 *   published_at ── active_from ────────── retired_at ──────── remove_after
 *   in the JWKS     signs (newest active)  stops signing       leaves the JWKS
 *
 * `rotateSigningKey()` publishes a new key now, lets it sign only after the propagation delay
 * (servers re-read the keys every minute; relying parties cache the JWKS), and retires the
 * current key at that same instant, to stay in the JWKS for the retention period after it: so
 * no token is signed with a key that is not yet in every JWKS, and no key leaves the JWKS while
 * a token it signed can still be presented.
 */

export const SIGNING_ALGS = ['ES256', 'RS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

export interface SigningKeyPolicy {
  /** How long a new key is published before it signs (default one hour). */
  propagationMs: number;
  /**
   * How long a retired key stays in the JWKS: at least the longest lifetime of anything it
   * signed. ID tokens live 60 s, but a relying party presents its ID token again as
   * `id_token_hint` at logout, which the provider accepts expired, for as long as its own
   * session lasts: the default is the provider's session lifetime, 8 hours.
   */
  retentionMs: number;
  /** How often a running server re-reads the keys (watchSigningKeys): at most a minute, far below the propagation delay. */
  reloadMs: number;
}

export const DEFAULT_SIGNING_KEY_POLICY: SigningKeyPolicy = { propagationMs: 3600_000, retentionMs: 8 * 3600_000, reloadMs: 60_000 };

/** The environment variables of the policy (docs/operations.md), in seconds. */
export const SIGNING_KEY_ENV = {
  propagation: 'SESAME_OIDC_SIGNING_KEY_DELAY_SECONDS',
  retention: 'SESAME_OIDC_SIGNING_KEY_RETENTION_SECONDS',
  reload: 'SESAME_OIDC_SIGNING_KEY_RELOAD_SECONDS',
} as const;

export class SigningKeyPolicyError extends Error {
  override name = 'SigningKeyPolicyError';
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.variable = variable;
  }
}

function seconds(env: NodeJS.ProcessEnv, variable: string, min: number, max: number, fallbackMs: number): number {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === '') return fallbackMs;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new SigningKeyPolicyError(variable, `must be a whole number of seconds from ${min} to ${max}`);
  return Number(raw) * 1000;
}

/**
 * The policy from the environment. The delay is at least five minutes: servers re-read the keys
 * every minute (watchSigningKeys), and relying parties cache the JWKS besides.
 */
export function signingKeyPolicyFromEnv(env: NodeJS.ProcessEnv): SigningKeyPolicy {
  return {
    propagationMs: seconds(env, SIGNING_KEY_ENV.propagation, 300, 7 * 86400, DEFAULT_SIGNING_KEY_POLICY.propagationMs),
    retentionMs: seconds(env, SIGNING_KEY_ENV.retention, 60, 30 * 86400, DEFAULT_SIGNING_KEY_POLICY.retentionMs),
    reloadMs: seconds(env, SIGNING_KEY_ENV.reload, 1, 60, DEFAULT_SIGNING_KEY_POLICY.reloadMs),
  };
}

export type SigningKeyState = 'published' | 'active' | 'retired' | 'removed';

export interface SigningKeyInfo {
  kid: string;
  alg: SigningAlg;
  kekId: string;
  publicJwk: JWK;
  createdAt: Date;
  createdBy: string;
  publishedAt: Date;
  activeFrom: Date;
  retiredAt: Date | null;
  removeAfter: Date | null;
}

/** Where a key is in its life at `now` ('published': in the JWKS, not signing yet). */
export function signingKeyState(k: SigningKeyInfo, now: Date): SigningKeyState | 'unpublished' {
  const t = now.getTime();
  if (t < k.publishedAt.getTime()) return 'unpublished';
  if (k.removeAfter && t >= k.removeAfter.getTime()) return 'removed';
  if (k.retiredAt && t >= k.retiredAt.getTime()) return 'retired';
  if (t < k.activeFrom.getTime()) return 'published';
  return 'active';
}

type Row = {
  kid: string;
  alg: SigningAlg;
  public_jwk: JWK;
  kek_id: string;
  sealed_private_jwk: Uint8Array;
  created_at: Date;
  created_by: string;
  published_at: Date;
  active_from: Date;
  retired_at: Date | null;
  remove_after: Date | null;
};

const COLUMNS = 'kid, alg, public_jwk, kek_id, sealed_private_jwk, created_at, created_by, published_at, active_from, retired_at, remove_after';

const info = (r: Row): SigningKeyInfo => ({
  kid: r.kid,
  alg: r.alg,
  kekId: r.kek_id,
  publicJwk: r.public_jwk,
  createdAt: r.created_at,
  createdBy: r.created_by,
  publishedAt: r.published_at,
  activeFrom: r.active_from,
  retiredAt: r.retired_at,
  removeAfter: r.remove_after,
});

const aad = (kid: string, alg: string): string => `oidc-signing-key:${kid}:${alg}`;

/** Every key in the table, oldest first (removed ones too, until they are deleted). */
export async function listSigningKeys(tx: Tx): Promise<SigningKeyInfo[]> {
  const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM oidc_signing_keys ORDER BY alg, active_from, created_at, kid`);
  return rows.map(info);
}

/** How many signing keys each KEK wraps (for `sesame keys status|retire`). */
export async function signingKeysByKek(db: Database): Promise<Map<string, number>> {
  const { rows } = await system(db, 'keys-status', (tx) =>
    tx.query<{ kek_id: string; n: string }>(`SELECT kek_id, count(*)::text AS n FROM oidc_signing_keys GROUP BY kek_id ORDER BY kek_id`),
  );
  return new Map(rows.map((r) => [r.kek_id, Number(r.n)]));
}

/** Re-wraps every signing key still under an older KEK (after `sesame keys rotate`). */
export async function rewrapSigningKeys(tx: Tx, ring: KeyRing): Promise<number> {
  const current = ring.currentKekId;
  const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM oidc_signing_keys WHERE kek_id <> $1 FOR UPDATE`, [current]);
  let done = 0;
  for (const r of rows) {
    if (!ring.kekIds.includes(r.kek_id)) continue;
    const plain = open(ring.kek(r.kek_id), aad(r.kid, r.alg), Buffer.from(r.sealed_private_jwk));
    await tx.query(`UPDATE oidc_signing_keys SET kek_id = $2, sealed_private_jwk = $3 WHERE kid = $1`, [r.kid, current, seal(ring.kek(current), aad(r.kid, r.alg), plain)]);
    plain.fill(0);
    done++;
  }
  return done;
}

/** A kid an operator can read: the algorithm, the creation day and 48 random bits. */
function newKid(alg: SigningAlg, at: Date): string {
  return `${alg.toLowerCase()}-${at.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(6).toString('hex')}`;
}

function generate(alg: SigningAlg): JWK {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return pair.privateKey.export({ format: 'jwk' }) as JWK;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

/** The public members of a JWK only. */
export function publicJwkOf(jwk: JWK): JWK {
  return Object.fromEntries(Object.entries(jwk).filter(([name]) => !PRIVATE_MEMBERS.includes(name))) as JWK;
}

async function lock(tx: Tx): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('oidc-signing-keys', 0))`);
}

async function insertKey(
  tx: Tx,
  ring: KeyRing,
  clock: Clock,
  alg: SigningAlg,
  times: { publishedAt: Date; activeFrom: Date },
  operator: string | undefined,
  reason: 'first-start' | 'no-active-key' | 'rotation',
): Promise<SigningKeyInfo> {
  const now = clock.now();
  const kid = newKid(alg, now);
  const priv: JWK = { ...generate(alg), kid, alg, use: 'sig' };
  const pub = publicJwkOf(priv);
  const kekId = ring.currentKekId;
  const plain = Buffer.from(JSON.stringify(priv), 'utf8');
  const sealed = seal(ring.kek(kekId), aad(kid, alg), plain);
  plain.fill(0);
  const { rows } = await tx.query<Row>(
    `INSERT INTO oidc_signing_keys (kid, alg, public_jwk, kek_id, sealed_private_jwk, created_at, created_by, published_at, active_from)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
    [kid, alg, JSON.stringify(pub), kekId, sealed, now, actorOf(tx, operator), times.publishedAt, times.activeFrom],
  );
  await audit(
    tx,
    clock,
    { type: 'oidc.signing-key-created', accountId: null, payload: { kid, alg, publishedAt: times.publishedAt.toISOString(), activeFrom: times.activeFrom.toISOString(), reason } },
    operator,
  );
  return info(rows[0] as Row);
}

/**
 * Makes sure each algorithm has a key that signs now: on first start, one ES256 and one RS256
 * key, signing at once (nobody can have fetched a JWKS yet, so there is nothing to wait for).
 * Also the repair when an algorithm has no active nor upcoming key. Serialised by an advisory
 * lock, so servers starting together make one key per algorithm, not one each.
 */
export async function ensureSigningKeys(db: Database, ring: KeyRing, clock: Clock): Promise<SigningKeyInfo[]> {
  return system(db, 'oidc:signing-keys', (tx) => ensureInTx(tx, ring, clock, undefined));
}

async function ensureInTx(tx: Tx, ring: KeyRing, clock: Clock, operator: string | undefined): Promise<SigningKeyInfo[]> {
  const now = clock.now();
  // Most starts find their keys: only take the lock when something may be missing.
  const missing = (keys: SigningKeyInfo[]): SigningAlg[] => SIGNING_ALGS.filter((alg) => !keys.some((k) => k.alg === alg && signingKeyState(k, now) === 'active'));
  if (missing(await listSigningKeys(tx)).length === 0) return [];
  await lock(tx);
  const keys = await listSigningKeys(tx);
  const created: SigningKeyInfo[] = [];
  for (const alg of missing(keys)) {
    const reason = keys.some((k) => k.alg === alg) ? 'no-active-key' : 'first-start';
    created.push(await insertKey(tx, ring, clock, alg, { publishedAt: now, activeFrom: now }, operator, reason));
  }
  return created;
}

/** The key of `alg` that signs at `now`: the newest active one. */
function signerOf(keys: SigningKeyInfo[], alg: SigningAlg, now: Date): SigningKeyInfo | undefined {
  return keys
    .filter((k) => k.alg === alg && signingKeyState(k, now) === 'active')
    .sort((a, b) => b.activeFrom.getTime() - a.activeFrom.getTime() || b.createdAt.getTime() - a.createdAt.getTime() || (a.kid < b.kid ? 1 : -1))[0];
}

export type RotationResult =
  | {
      outcome: 'rotated';
      key: SigningKeyInfo;
      /** The key it replaces, retired when the new one starts signing. */
      retired: SigningKeyInfo | null;
      /** Keys past their remove_after, deleted on the way. */
      deleted: string[];
    }
  | { outcome: 'under-way'; key: SigningKeyInfo };

/**
 * One rotation of `alg`, all in the caller's transaction: a new key published now and signing
 * after the propagation delay; the current key retired at that same instant and kept in the
 * JWKS for the retention period after it. Refused while an earlier rotation of the same
 * algorithm has not yet taken effect (its key is still only published). Keys already out of
 * the JWKS are deleted, private part included.
 */
export async function rotateSigningKey(tx: Tx, ring: KeyRing, clock: Clock, alg: SigningAlg, policy: SigningKeyPolicy, operator?: string): Promise<RotationResult> {
  await lock(tx);
  const deleted = await deleteRemovedSigningKeys(tx, clock, operator);
  await ensureInTx(tx, ring, clock, operator);
  const now = clock.now();
  const keys = (await listSigningKeys(tx)).filter((k) => k.alg === alg);
  const upcoming = keys.find((k) => signingKeyState(k, now) === 'published' && !k.retiredAt);
  if (upcoming) return { outcome: 'under-way', key: upcoming };
  const activeFrom = new Date(now.getTime() + policy.propagationMs);
  const removeAfter = new Date(activeFrom.getTime() + policy.retentionMs);
  const key = await insertKey(tx, ring, clock, alg, { publishedAt: now, activeFrom }, operator, 'rotation');
  const current = signerOf(keys, alg, now) ?? null;
  let retired: SigningKeyInfo | null = null;
  // Every key of this algorithm that would still sign then stops when the new one starts.
  for (const k of keys.filter((k) => signingKeyState(k, now) === 'active' && (!k.retiredAt || k.retiredAt > activeFrom))) {
    const { rows } = await tx.query<Row>(`UPDATE oidc_signing_keys SET retired_at = $2, remove_after = $3 WHERE kid = $1 RETURNING ${COLUMNS}`, [k.kid, activeFrom, removeAfter]);
    const updated = info(rows[0] as Row);
    if (k.kid === current?.kid) retired = updated;
    await audit(
      tx,
      clock,
      { type: 'oidc.signing-key-retired', accountId: null, payload: { kid: k.kid, alg, retiredAt: activeFrom.toISOString(), removeAfter: removeAfter.toISOString(), replacedBy: key.kid } },
      operator,
    );
  }
  return { outcome: 'rotated', key, retired, deleted };
}

/** Deletes the keys past their remove_after (no longer in any JWKS): their private part goes with them. */
export async function deleteRemovedSigningKeys(tx: Tx, clock: Clock, operator?: string): Promise<string[]> {
  const { rows } = await tx.query<{ kid: string; alg: SigningAlg }>(`DELETE FROM oidc_signing_keys WHERE remove_after <= $1 RETURNING kid, alg`, [clock.now()]);
  for (const r of rows) await audit(tx, clock, { type: 'oidc.signing-key-deleted', accountId: null, payload: { kid: r.kid, alg: r.alg } }, operator);
  return rows.map((r) => r.kid).sort();
}

/** What the provider is built with, at one instant. */
export interface ProviderSigningKeys {
  /**
   * The provider's `jwks.keys`: private JWKs, for each algorithm the key that signs first
   * (oidc-provider signs with the first key of the algorithm, in configuration order: its
   * KeyStore.selectForSign filters, then sorts stably by a score equal for all of our keys),
   * then the other published keys (upcoming ones, retired ones), which it only publishes and
   * verifies with (`id_token_hint`).
   */
  keys: JWK[];
  /** The public JWKS the provider serves (same keys, same order, no private member). */
  publicJwks: { keys: JWK[] };
  /** Which key signs for each algorithm. */
  signers: Record<SigningAlg, string>;
  /** When the set or the signers next change by time alone (null: not until a rotation). */
  nextChangeAt: Date | null;
  /** Changes exactly when keys or their order change: rebuild the provider when it does. */
  version: string;
}

/**
 * The keys for `createOidcProvider({ signingKeys: keys })` at the clock's now. Makes the first
 * keys when there are none (so `npm start` needs nothing), and re-wraps under the current KEK a
 * key an older KEK still wraps.
 */
export async function loadSigningKeys(db: Database, ring: KeyRing, clock: Clock): Promise<ProviderSigningKeys> {
  await ensureSigningKeys(db, ring, clock);
  return system(db, 'oidc:signing-keys', async (tx) => {
    const now = clock.now();
    const { rows } = await tx.query<Row>(
      `SELECT ${COLUMNS} FROM oidc_signing_keys WHERE published_at <= $1 AND (remove_after IS NULL OR remove_after > $1)`,
      [now],
    );
    const all = rows.map(info);
    const byKid = new Map(rows.map((r) => [r.kid, r]));
    const keys: JWK[] = [];
    const signers = {} as Record<SigningAlg, string>;
    for (const alg of SIGNING_ALGS) {
      const signer = signerOf(all, alg, now);
      if (!signer) throw new Error(`no ${alg} signing key is active: run ensureSigningKeys()`);
      signers[alg] = signer.kid;
      // The signer first; then the others, newest first (none of them signs: see above).
      const others = all.filter((k) => k.alg === alg && k.kid !== signer.kid).sort((a, b) => b.activeFrom.getTime() - a.activeFrom.getTime() || (a.kid < b.kid ? -1 : 1));
      for (const k of [signer, ...others]) {
        const r = byKid.get(k.kid) as Row;
        const plain = open(ring.kek(r.kek_id), aad(r.kid, r.alg), Buffer.from(r.sealed_private_jwk));
        if (r.kek_id !== ring.currentKekId) {
          tx.send(`UPDATE oidc_signing_keys SET kek_id = $2, sealed_private_jwk = $3 WHERE kid = $1`, [r.kid, ring.currentKekId, seal(ring.kek(ring.currentKekId), aad(r.kid, r.alg), plain)]);
        }
        const jwk = JSON.parse(plain.toString('utf8')) as JWK;
        plain.fill(0);
        if (jwk.kid !== r.kid || jwk.alg !== r.alg) throw new Error(`signing key ${r.kid} does not match its row`);
        keys.push(jwk);
      }
    }
    const t = now.getTime();
    const future = all
      .flatMap((k) => [k.publishedAt, k.activeFrom, k.retiredAt, k.removeAfter])
      .filter((d): d is Date => d !== null && d.getTime() > t)
      .map((d) => d.getTime());
    return {
      keys,
      publicJwks: { keys: keys.map(publicJwkOf) },
      signers,
      nextChangeAt: future.length > 0 ? new Date(Math.min(...future)) : null,
      version: keys.map((k) => k.kid).join(','),
    };
  });
}

/**
 * Keeps a running server's keys current: reloads them every `intervalMs` (default one minute,
 * far below the propagation delay) and at the next timed change, and calls `onChange` when the
 * set or a signer changed, with the keys to rebuild the provider with (the provider reads its
 * keys once, when it is made). `check()` does one reload now (tests, or after a rotation).
 */
export function watchSigningKeys(o: {
  db: Database;
  ring: KeyRing;
  clock: Clock;
  current: ProviderSigningKeys;
  onChange: (keys: ProviderSigningKeys) => void;
  onError: (err: Error) => void;
  intervalMs?: number;
}): { check(): Promise<void>; stop(): void } {
  const intervalMs = o.intervalMs ?? 60_000;
  let current = o.current;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const check = async (): Promise<void> => {
    const next = await loadSigningKeys(o.db, o.ring, o.clock);
    const changed = next.version !== current.version;
    current = next; // even unchanged: a rotation moves nextChangeAt
    if (changed) o.onChange(next);
  };
  const schedule = (): void => {
    if (stopped) return;
    const untilChange = current.nextChangeAt ? current.nextChangeAt.getTime() - o.clock.now().getTime() + 50 : Infinity;
    timer = setTimeout(
      () => {
        check().then(schedule, (err: Error) => {
          o.onError(err);
          schedule();
        });
      },
      Math.max(50, Math.min(intervalMs, untilChange)),
    );
    timer.unref();
  };
  schedule();
  return {
    check,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
