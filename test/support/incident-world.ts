import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { nirIndex } from '../../src/accounts/accounts.ts';
import { nirKey } from '../../src/accounts/nir.ts';
import { ManualClock } from '../../src/clock.ts';
import { newId } from '../../src/crypto/random.ts';
import { hashPassword } from '../../src/crypto/passwords.ts';
import { KeyRing, writeKeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import type { ChangeType } from '../../src/file/catalogue.ts';
import { appendEvent, type AppendInput } from '../../src/file/events.ts';
import { beneficiariesImport } from '../../src/import/beneficiaries.ts';
import { runImport } from '../../src/import/runner.ts';
import { testApp, type TestApp } from './app.ts';
import { fileProcedure } from './beneficiary-file.ts';
import { sesame, type CliResult } from './cli.ts';
import { createPostgresDatabase } from './databases.ts';
import { testIban } from './french-ibans.ts';
import { Browser, logIn, type Citizen } from './login.ts';

/**
 * The world of the 2021 replay (test/incident/replay-2021.test.ts): 1,000 beneficiaries
 * imported a month before, an 11-hour window yesterday in which a fault gave some citizens'
 * sessions other citizens' files, ordinary activity before, during and after it, and what
 * the cohort, the cancellation and the notification must find, computed here from what was
 * done (not from the database the commands read).
 *
 * The app runs on a ManualClock set inside the window; the commands (the CLI, system clock)
 * run "today", after it. The app and the CLI share the PostgreSQL database and the key file.
 */

export const CITIZENS = 1000;
const PASSWORD = 'cheval correct agrafe batterie 2021';
const NEW_PASSWORD = 'une toute nouvelle phrase de passe 2021';

export type Category = 'logged-in' | 'file-read' | 'file-changed' | 'touched-by-others';

/** A change appended to a file, as the cancellation must see it. */
export interface Change {
  accountId: string;
  eventId: string;
  type: ChangeType;
  part: string;
  key: string | null;
  occurredAt: Date;
  /** The session's account differs from the file's (the fault). */
  byOther: boolean;
}

export interface Person {
  index: number;
  accountId: string;
  nir: string;
  email: string;
  iban: string;
}

export interface World {
  dir: string;
  env: NodeJS.ProcessEnv;
  url: string;
  ring: KeyRing;
  db: OpenDatabase;
  clock: ManualClock;
  from: Date;
  to: Date;
  /** Every citizen, in account id order (the fault gives the session the next one). */
  people: Person[];
  byId: Map<string, Person>;
  /** The fault's pairs: the intruder's session was given the victim's account. */
  intrusions: { intruder: Person; victim: Person; sessionId: string; changed: string[] }[];
  /** Accounts with a session started in the window. */
  loggedIn: Set<string>;
  /** Accounts whose own session read their file (a page of the area answered) in the window. */
  readOwn: Set<string>;
  /** Accounts whose data was served to (and withheld from) a session of another account. */
  servedToOthers: Set<string>;
  /** Accounts whose password was changed (by themselves) before the window. */
  passwordChangedBefore: Set<string>;
  /** When those changes were made (all of them before `from`). */
  passwordChangedAt: Date;
  /** Citizens' changes in the window (what the cancellation undoes). */
  inWindow: Change[];
  /** The agency's changes in the window: in the cohort (file-changed), left alone by the cancellation. */
  agencyInWindow: Change[];
  outside: Change[];
  /** In-window changes with a later change of the same part (and entry) after the window. */
  conflicts: { change: Change; later: Change }[];
  /** Owners' in-window procedures filed through the web form (reference shown to the owner). */
  webProcedures: { accountId: string; id: string; reference: string }[];
  /** Citizens logged in "now" (after the window), whose sessions access close must end. */
  liveNow: { person: Person; b: Browser }[];
  apps: TestApp[];
  cli(args: string[]): Promise<CliResult>;
  /** Everything the commands printed (stdout and stderr), to look for personal data in it. */
  printed: string[];
  close(): Promise<void>;
}

async function superuserOn(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Runs fn over the items, `n` at a time: logins wait on the database far more than on the CPU. */
async function parallel<T>(items: readonly T[], n: number, fn: (item: T, k: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const k = next++;
      await fn(items[k] as T, k);
    }
  };
  await Promise.all(Array.from({ length: n }, lane));
}

const LANES = 6;
const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Yesterday 08:00–19:00 UTC: in the past for the commands, whose clock is the real one. */
export function windowOfYesterday(now = new Date()): { from: Date; to: Date } {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return { from: new Date(midnight - DAY + 8 * HOUR), to: new Date(midnight - DAY + 19 * HOUR) };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const letters = (n: number): string => `${LETTERS[Math.floor(n / 676) % 26]}${LETTERS[Math.floor(n / 26) % 26]}${LETTERS[n % 26]}`;

function nirOf(i: number): { nir: string; birthDate: string } {
  const month = String((i % 12) + 1).padStart(2, '0');
  const body = `${(i % 2) + 1}85${month}75${String(101 + Math.floor(i / 1000)).padStart(3, '0')}${String(i % 1000).padStart(3, '0')}`;
  return { nir: body + nirKey(body), birthDate: `1985-${month}-10` };
}

/** The agency's file: every beneficiary with an email, a phone and bank details. */
function beneficiariesCsv(): { csv: string; rows: { nir: string; email: string; iban: string }[] } {
  const rows: { nir: string; email: string; iban: string }[] = [];
  const lines = ['nir,given_names,family_name,birth_date,email,phone,iban'];
  for (let i = 0; i < CITIZENS; i++) {
    const { nir, birthDate } = nirOf(i);
    const email = `allocataire.${i}@example.fr`;
    const iban = testIban(100_000 + i);
    rows.push({ nir, email, iban });
    lines.push(`${nir},Camille,Martin-${letters(i)},${birthDate},${email},06 12 34 ${String(i % 100).padStart(2, '0')} ${String(Math.floor(i / 100)).padStart(2, '0')},${iban}`);
  }
  return { csv: `${lines.join('\n')}\n`, rows };
}

/** Groups by index (in account id order): intruders at 0 mod 50, whose victims are the next account. */
const GROUP = { intruder: 0, ownerChange: 10, reader: 20, agency: 25, before: 30, after: 35, passwordChanged: 40, liveNow: 45 } as const;
const inGroup = (i: number, g: keyof typeof GROUP): boolean => i % 50 === GROUP[g];

export async function buildWorld(timings: (label: string, ms: number) => void): Promise<World> {
  let t0 = performance.now();
  const lap = (label: string): void => {
    const now = performance.now();
    timings(label, now - t0);
    t0 = now;
  };
  const dir = await mkdtemp(path.join(tmpdir(), 'sesame-replay-2021-'));
  const created = await createPostgresDatabase();
  // A throwaway database: commits need not wait for the disk (visibility is unchanged, and a
  // killed command is a killed client, not a crashed server). Seeding goes ~3× faster.
  await superuserOn(created.url, `ALTER DATABASE ${new URL(created.url).pathname.slice(1)} SET synchronous_commit = off`);
  const env: NodeJS.ProcessEnv = { SESAME_DATA_DIR: dir, DATABASE_URL: created.url, LOG_LEVEL: 'silent', USER: 'astreinte.dupont', SESAME_ACCESS_CACHE_MS: '0', SESAME_DPO_EMAIL: 'dpo@caf.example.fr' };
  // The app and the commands share the keys as they share the database.
  const ring = KeyRing.generate('kek-test');
  await writeKeyRing(path.join(dir, 'keys.json'), ring);
  const migrated = await sesame(['migrate'], env);
  assert.equal(migrated.code, 0, migrated.stderr);
  const db = await openDatabase({ databaseUrl: created.url, poolSize: 4 });
  const { from, to } = windowOfYesterday();
  const clock = new ManualClock(new Date(from.getTime() - 30 * DAY));
  const apps: TestApp[] = [];
  const cleanup = async (): Promise<void> => {
    for (const a of apps) await a.close();
    await db.close();
    await created.drop();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    // 1. A month before: the agency's import, in-process so that it happens at that time.
    const { csv, rows } = beneficiariesCsv();
    const file = path.join(dir, 'beneficiaires.csv');
    await writeFile(file, csv);
    const report = await runImport(
      beneficiariesImport({ ring, clock }, { update: false }),
      { db, ring, clock, operator: 'import' },
      { file, rejectsPath: path.join(dir, 'rejects.csv'), batchSize: 500, restart: false, updateIdentity: false, delimiter: 'auto' },
      { stderr: new PassThrough(), tty: false },
    );
    assert.equal(report.counts.created, CITIZENS, 'every beneficiary imported');
    lap('import of 1,000 beneficiaries');

    // Everyone activated their account (one hash for all: Argon2 is tested elsewhere).
    const apps0 = await testApp({ db, ring, clock, env: { SESAME_ACCESS_CACHE_MS: '0' } });
    apps.push(apps0);
    const hash = await hashPassword(PASSWORD, apps0.deps.config.auth.argon2);
    const byIndex = new Map(rows.map((r, i) => [nirIndex(ring, r.nir).toString('hex'), i]));
    const people = await system(db, 'test', async (tx) => {
      await tx.query(`UPDATE accounts SET status = 'active', updated_at = $1`, [clock.now()]);
      await tx.query(
        `INSERT INTO credentials (id, account_id, kind, secret, created_at, updated_at) SELECT gen_random_uuid(), id, 'password', $1, $2, $2 FROM accounts`,
        [hash, clock.now()],
      );
      const { rows: accounts } = await tx.query<{ id: string; nir_index: Buffer }>(`SELECT id, nir_index FROM accounts ORDER BY id`);
      return accounts.map((a, index) => {
        const row = rows[byIndex.get(Buffer.from(a.nir_index).toString('hex')) ?? -1];
        assert.ok(row);
        return { index, accountId: a.id, nir: row.nir, email: row.email, iban: row.iban };
      });
    });
    assert.equal(people.length, CITIZENS);
    lap('activation');

    const byId = new Map(people.map((p) => [p.accountId, p]));
    const citizen = (p: Person): Citizen => ({ accountId: p.accountId, nir: p.nir, password: PASSWORD, email: p.email, givenNames: 'Camille', familyName: 'Martin' });
    const faulty = await testApp({ db, ring, clock, env: { SESAME_FAULT_INJECTION: 'wrong-session-account', SESAME_TRIPWIRE_THRESHOLD: '100000', SESAME_ACCESS_CACHE_MS: '0' } });
    apps.push(faulty);
    let ip = 0;
    const browser = (t: TestApp): Browser => {
      const b = new Browser(t);
      ip++;
      b.ip = `10.${Math.floor(ip / 250)}.${ip % 250}.7`;
      return b;
    };
    const sessionOf = async (accountId: string): Promise<{ id: string; level: 'eidas1' | 'eidas2' | 'eidas3' }> =>
      system(db, 'test', async (tx) => {
        const { rows: s } = await tx.query<{ id: string; level: 'eidas1' | 'eidas2' | 'eidas3' }>(`SELECT id, level FROM sessions WHERE account_id = $1 ORDER BY created_at DESC LIMIT 1`, [accountId]);
        assert.ok(s[0]);
        return s[0];
      });
    const inWindow: Change[] = [];
    const outside: Change[] = [];
    const append = async (input: AppendInput, byOther: boolean, into: Change[]): Promise<Change> => {
      const r = await system(db, 'test', (tx) => appendEvent(tx, { ring, clock }, input));
      assert.ok(input.type !== 'event.cancelled');
      const part = input.type.startsWith('procedure.') ? 'procedure' : input.type;
      const change: Change = { accountId: input.accountId, eventId: r.id, type: input.type, part, key: 'key' in input ? (input.key ?? null) : null, occurredAt: r.occurredAt, byOther };
      into.push(change);
      return change;
    };
    const procedureOf = (n: number) => ({
      kind: 'address-change' as const,
      reference: `D-2021-INTR${String(n).padStart(4, '0')}`,
      status: 'submitted' as const,
      submittedAt: clock.now().toISOString(),
      data: { street: 'rue des Intrus' },
      note: null,
    });

    // 2. Five days before: changes by their owners (they stay).
    clock.set(new Date(from.getTime() - 5 * DAY));
    await parallel(people.filter((q) => inGroup(q.index, 'before')), LANES, async (p) => {
      await logIn(browser(apps0), citizen(p));
      const s = await sessionOf(p.accountId);
      await append({ type: 'contact.phone-changed', accountId: p.accountId, actor: { kind: 'citizen', id: p.accountId }, sessionId: s.id, level: s.level, after: `07 00 00 ${String(p.index % 100).padStart(2, '0')} 01` }, false, outside);
    });
    lap('before the window');

    // 3. Two days before: some citizens changed their password (through the security page).
    const passwordChangedAt = new Date(from.getTime() - 2 * DAY);
    clock.set(passwordChangedAt);
    const passwordChangedBefore = new Set<string>();
    await parallel(people.filter((q) => inGroup(q.index, 'passwordChanged')), LANES, async (p) => {
      const b = browser(apps0);
      await logIn(b, citizen(p));
      await b.get('/account/security');
      const res = await b.post('/account/security/password', { method: 'password', current: PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
      assert.equal(res.statusCode, 303, 'password changed');
      passwordChangedBefore.add(p.accountId);
    });
    lap('password changes before the window');

    // 4. The window.
    const loggedIn = new Set<string>();
    const readOwn = new Set<string>();
    const servedToOthers = new Set<string>();
    const webProcedures: World['webProcedures'] = [];
    clock.set(new Date(from.getTime() + HOUR));

    // The fault: each intruder's session is given the next account (its victim). Our tripwire
    // withholds every such response and records it (isolation_violations, audit). What those
    // sessions then changed is written the way the database of a system WITHOUT the tripwire
    // held it in 2021: events on the victim's file, actor the victim (the app believed the
    // session was theirs), session id the intruder's session: the sessions of another account.
    const intrusions: World['intrusions'] = [];
    const intruders = people.filter((q) => inGroup(q.index, 'intruder'));
    await parallel(intruders, LANES, async (intruder, k) => {
      const victim = people[intruder.index + 1];
      assert.ok(victim);
      const b = browser(faulty);
      await logIn(b, citizen(intruder));
      loggedIn.add(intruder.accountId);
      const served = await b.get('/account');
      assert.equal(served.statusCode, 500, 'the tripwire withholds the other citizen’s file');
      servedToOthers.add(victim.accountId);
      const s = await sessionOf(intruder.accountId);
      const changed: string[] = [];
      const as = { accountId: victim.accountId, actor: { kind: 'citizen' as const, id: victim.accountId }, sessionId: s.id, level: s.level };
      if (k % 5 === 0 || k % 5 === 2) {
        changed.push((await append({ ...as, type: 'bank-details.changed', after: { iban: testIban(900_000 + k), holder: 'Camille Intrus' } }, true, inWindow)).eventId);
      }
      if (k % 5 === 1 || k % 5 === 2) {
        changed.push((await append({ ...as, type: 'procedure.submitted', key: newId(), after: procedureOf(k) }, true, inWindow)).eventId);
      }
      if (k % 5 === 3) {
        changed.push((await append({ ...as, type: 'contact.phone-changed', after: `06 99 99 99 ${String(k).padStart(2, '0')}` }, true, inWindow)).eventId);
      }
      intrusions.push({ intruder, victim, sessionId: s.id, changed });
    });

    // Lanes run together, so the clock moves between phases only: a lane's login code must
    // not expire while the others run.
    clock.advance(HOUR);
    // Owners, on the app without the fault: logins, reading, their own changes.
    await parallel(people.filter((q) => inGroup(q.index, 'ownerChange')), LANES, async (p, k) => {
      const b = browser(apps0);
      await logIn(b, citizen(p));
      loggedIn.add(p.accountId);
      assert.equal((await b.get('/account')).statusCode, 200);
      readOwn.add(p.accountId);
      if (k % 2 === 0) {
        const s = await sessionOf(p.accountId);
        await append({ type: 'contact.phone-changed', accountId: p.accountId, actor: { kind: 'citizen', id: p.accountId }, sessionId: s.id, level: s.level, after: `07 11 11 ${String(k).padStart(2, '0')} 00` }, false, inWindow);
      } else {
        const form = await b.get('/account/procedures/new/income-declaration');
        const quarter = /<option value="(\d{4}-Q[1-4])"/.exec(form.body)?.[1];
        assert.ok(quarter, 'a quarter to declare');
        const filed = await fileProcedure(b, 'income-declaration', { quarter, 'salaries-1': '1500' });
        webProcedures.push({ accountId: p.accountId, ...filed });
        const events = await system(db, 'test', async (tx) =>
          (await tx.query<{ id: string; occurred_at: Date }>(`SELECT id, occurred_at FROM file_events WHERE account_id = $1 AND type = 'procedure.submitted'`, [p.accountId])).rows,
        );
        assert.equal(events.length, 1);
        const e = events[0];
        assert.ok(e);
        inWindow.push({ accountId: p.accountId, eventId: e.id, type: 'procedure.submitted', part: 'procedure', key: filed.id, occurredAt: e.occurred_at, byOther: false });
      }
    });
    clock.advance(HOUR);
    await parallel(people.filter((q) => inGroup(q.index, 'reader') || inGroup(q.index, 'passwordChanged')), LANES, async (p) => {
      const b = browser(apps0);
      await logIn(b, { ...citizen(p), password: passwordChangedBefore.has(p.accountId) ? NEW_PASSWORD : PASSWORD });
      loggedIn.add(p.accountId);
      assert.equal((await b.get('/account')).statusCode, 200);
      readOwn.add(p.accountId);
    });
    // The agency's own work goes on in the window: payments recorded.
    const agencyInWindow: Change[] = [];
    for (const p of people.filter((q) => inGroup(q.index, 'agency')).slice(0, 3)) {
      const key = newId();
      await append(
        { type: 'payment.recorded', accountId: p.accountId, key, actor: { kind: 'agency', id: 'caf-75' }, sessionId: null, level: null, after: { reference: `PAY-${key.slice(0, 8)}`, date: from.toISOString().slice(0, 10), benefit: 'RSA', amountCents: 61234, status: 'paid', iban: null } },
        false,
        agencyInWindow,
      );
    }
    assert.ok(clock.now().getTime() < to.getTime(), 'the window’s activity fits in the window');
    lap('the window');

    // 5. Two hours after the window: changes that stay, and later changes of parts changed in
    // the window (the cancellation must report them, not overwrite them).
    clock.set(new Date(to.getTime() + 2 * HOUR));
    const agency = { actor: { kind: 'agency' as const, id: 'caf-75' }, sessionId: null, level: null };
    for (const p of people.filter((q) => inGroup(q.index, 'after'))) {
      await append({ ...agency, type: 'bank-details.changed', accountId: p.accountId, after: { iban: testIban(500_000 + p.index), holder: 'Camille Martin' } }, false, outside);
    }
    const conflicts: World['conflicts'] = [];
    const laterOf = async (change: Change, input: AppendInput): Promise<void> => {
      clock.advance(60_000);
      conflicts.push({ change, later: await append(input, false, outside) });
    };
    const bankChange = inWindow.find((c) => c.byOther && c.type === 'bank-details.changed');
    const phoneByOther = inWindow.find((c) => c.byOther && c.type === 'contact.phone-changed');
    const ownPhone = inWindow.find((c) => !c.byOther && c.type === 'contact.phone-changed');
    assert.ok(bankChange && phoneByOther && ownPhone);
    await laterOf(bankChange, { ...agency, type: 'bank-details.changed', accountId: bankChange.accountId, after: { iban: testIban(700_000), holder: 'Camille Martin' } });
    await laterOf(phoneByOther, { ...agency, type: 'contact.phone-changed', accountId: phoneByOther.accountId, after: '05 55 55 55 55' });
    await laterOf(ownPhone, { ...agency, type: 'contact.phone-changed', accountId: ownPhone.accountId, after: '05 66 66 66 66' });
    lap('after the window');

    // 6. Now: a few citizens logged in (outside the window), whose sessions access close ends.
    clock.set(new Date());
    const liveNow: World['liveNow'] = [];
    for (const p of people.filter((q) => inGroup(q.index, 'liveNow')).slice(0, 3)) {
      const b = browser(apps0);
      await logIn(b, citizen(p));
      liveNow.push({ person: p, b });
    }
    // What the logins queued (their codes, read from the outbox by logIn, and the alerts) was
    // delivered long before the incident: marked sent as the worker marks it, so that the
    // inbox of the notification step receives what notify queues and nothing else.
    await system(db, 'test', (tx) => tx.query(`UPDATE outbox SET status = 'sent', payload = NULL, sent_at = $1 WHERE status = 'pending'`, [clock.now()]));
    lap('logins now, seeding mail marked delivered');

    const printed: string[] = [];
    return {
      dir,
      env,
      url: created.url,
      ring,
      db,
      clock,
      from,
      to,
      people,
      byId,
      intrusions,
      loggedIn,
      readOwn,
      servedToOthers,
      passwordChangedBefore,
      passwordChangedAt,
      inWindow,
      agencyInWindow,
      outside,
      conflicts,
      webProcedures,
      liveNow,
      apps,
      printed,
      async cli(args) {
        const r = await sesame(args, env);
        printed.push(r.stdout, r.stderr);
        return r;
      },
      close: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
