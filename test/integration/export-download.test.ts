import { test } from 'node:test';
import assert from 'node:assert/strict';
import { citizen, system } from '../../src/db/contexts.ts';
import { addAuthenticator, removeAuthenticator } from '../../src/auth/authenticators.ts';
import { createClient } from '../../src/oidc/clients.ts';
import { readEvents } from '../../src/file/events.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn } from '../support/login.ts';
import { citizenWithApp } from '../support/totp.ts';
import { exportWithStepUp, fileProcedure, recordPayment, setBankDetails } from '../support/beneficiary-file.ts';

/**
 * "Mes données" (GDPR right of access): the page, then the download after a step-up, of the
 * whole file in clear as JSON: identity, contact, bank details with the held change, the
 * procedures with their data, payments, every file event decrypted, sessions, authenticators
 * without secrets, the security log. Only this citizen's, and the export is audited.
 */
const IBAN_OLD = 'FR7630006000011234567890189';
const IBAN_NEW = 'FR7610107001011234567890129';
const IBAN_OTHER = 'DE89370400440532013000';

onEachBackend('export of the file', ({ t }) => {
  test('the page explains the right of access, in French and English, with a form posting to itself', async () => {
    const { c } = await citizenWithApp(t);
    const b = new Browser(t);
    await logIn(b, c);
    const fr = await b.get('/account/export');
    assert.equal(fr.statusCode, 200);
    assert.match(fr.body, /<h1>Mes données<\/h1>/);
    assert.match(fr.body, /article 15 du RGPD/);
    assert.match(fr.body, /<form method="post" action="\/account\/export" id="export-form">\s*<input type="hidden" name="_csrf"/);
    const en = await b.get('/account/export?lang=en');
    assert.match(en.body, /<h1>My data<\/h1>/);
    assert.match(en.body, /Download my data/);
  });

  test('after the step-up: a JSON attachment of the whole file, in clear, this citizen’s only; audited', async () => {
    const { c, secret } = await citizenWithApp(t);
    const other = await citizenWithPassword(t, { identity: { givenNames: 'Octave', familyName: 'Autrui' } });
    await setBankDetails(t, other.accountId, IBAN_OTHER, 'Octave Autrui');
    await recordPayment(t, other.accountId, { date: '2026-01-05', amountCents: 77777, reference: 'OTHER-PAY' });
    await setBankDetails(t, c.accountId, IBAN_OLD, `${c.givenNames} ${c.familyName}`);
    const until = new Date(t.clock.now().getTime() + 3 * 24 * 3600 * 1000);
    await setBankDetails(t, c.accountId, IBAN_NEW, `${c.givenNames} ${c.familyName}`, until);
    await recordPayment(t, c.accountId, { date: '2026-01-05', amountCents: 60775, reference: 'MINE-1' });
    await recordPayment(t, c.accountId, { date: '2026-02-05', amountCents: 60775, reference: 'MINE-2', status: 'scheduled' });

    // An authenticator added then removed: the export tells its whole history (right of access).
    const removed = await citizen(t.deps.db, c.accountId, async (tx) => {
      const deps = { ...t.deps, policy: t.deps.config.auth };
      const client = { browser: null, os: null };
      const added = await addAuthenticator(tx, deps, { accountId: c.accountId, kind: 'passkey', name: 'Ancienne clé', fromStrongSession: true, locale: 'fr', client });
      await removeAuthenticator(tx, deps, { accountId: c.accountId, id: added.id, locale: 'fr', client });
      return added.id;
    });
    // A service the citizen agreed to share data with.
    const service = await system(t.deps.db, 'test', async (tx) => {
      const { client } = await createClient(tx, t.deps.ring, t.clock, { name: 'Mon compte formation', redirectUris: ['https://mcf.example.gouv.fr/cb'], scopes: 'openid identite_pivot email' }, 'operator:test');
      await tx.query(`INSERT INTO oidc_consents (account_id, client_id, grant_id, scopes, claims, consented_at, updated_at) VALUES ($1, $2, $3, $4, '{}', $5, $5)`, [c.accountId, client.clientId, 'grant-0123456789abcdef', ['openid', 'email'], t.clock.now()]);
      return { id: client.clientId, at: t.clock.now().toISOString() };
    });
    const b = new Browser(t);
    await logIn(b, c);
    const { id } = await fileProcedure(b, 'address-change', { street: '3 allée des Tilleuls', complement: '', postalCode: '33000', city: 'Bordeaux', moveDate: '2026-01-02' });
    const res = await exportWithStepUp(t, b, c, secret);

    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json; charset=utf-8/);
    assert.equal(res.headers['content-disposition'], `attachment; filename="sesame-export-${t.clock.now().toISOString().slice(0, 10)}.json"`);
    assert.match(String(res.headers['cache-control']), /no-store/);
    const doc = res.json<Record<string, unknown> & Record<'identity' | 'contact' | 'bankDetails' | 'account', Record<string, unknown>>>();

    assert.equal(doc.format, 'sesame-file-export/1');
    assert.equal(doc.generatedAt, t.clock.now().toISOString());
    assert.equal(doc.account.id, c.accountId);
    assert.equal(doc.identity.nir, c.nir);
    assert.equal(doc.identity.givenNames, c.givenNames);
    assert.equal(doc.contact.email, c.email);
    assert.equal(doc.contact.postalAddress, '3 allée des Tilleuls\n33000 BORDEAUX');
    assert.deepEqual(doc.bankDetails, {
      iban: IBAN_NEW,
      holder: `${c.givenNames} ${c.familyName}`,
      effectiveAt: until.toISOString(),
      pending: true,
      previous: { iban: IBAN_OLD, holder: `${c.givenNames} ${c.familyName}` },
    });
    const procedures = doc.procedures as { id: string; kind: string; data: Record<string, unknown> }[];
    assert.deepEqual(procedures.map((p) => [p.id, p.kind, p.data.street]), [[id, 'address-change', '3 allée des Tilleuls']]);
    const payments = doc.payments as { reference: string; iban: string | null; amountCents: number }[];
    assert.deepEqual(payments.map((p) => [p.reference, p.iban, p.amountCents]).sort(), [['MINE-1', IBAN_OLD, 60775], ['MINE-2', IBAN_NEW, 60775]]);

    const events = await system(t.deps.db, 'test', (tx) => readEvents(tx, t.deps.ring, c.accountId));
    const exported = doc.fileEvents as { id: string; type: string; data: { after: unknown } }[];
    assert.deepEqual(exported.map((e) => e.id), events.map((e) => e.id), 'every file event, in order');
    assert.deepEqual(exported.find((e) => e.type === 'contact.address-changed')?.data.after, '3 allée des Tilleuls\n33000 BORDEAUX', 'decrypted');

    const sessions = doc.sessions as { client: { userAgent?: string } | null; level: string }[];
    assert.ok(sessions.length >= 2, 'the sessions, ended ones included');
    assert.ok(sessions.some((s) => s.client?.userAgent === b.userAgent && s.level === 'eidas2'));
    const authenticators = doc.authenticators as Record<string, unknown>[];
    assert.deepEqual(authenticators.map((a) => [a.kind, a.name, a.removedAt === null]), [['totp', 'Téléphone de Camille', true], ['passkey', 'Ancienne clé', false]]);
    assert.equal(authenticators[1]?.id, removed);
    assert.deepEqual(Object.keys(authenticators[0] ?? {}).sort(), ['createdAt', 'id', 'kind', 'lastUsedAt', 'name', 'removedAt', 'sensitiveFrom'], 'no secret, no key');
    assert.deepEqual(doc.connectedServices, [
      { clientId: service.id, service: 'Mon compte formation', scopes: ['openid', 'email'], claims: ['email'], consentedAt: service.at, updatedAt: service.at, serviceDisabled: false },
    ]);
    const log = doc.securityLog as { type: string }[];
    assert.ok(log.some((e) => e.type === 'step-up.completed'));

    // Nothing of anyone else.
    for (const s of [other.accountId, other.nir, other.familyName, other.email, IBAN_OTHER, 'OTHER-PAY']) assert.ok(!res.body.includes(s), 'only this citizen’s data');

    const audit = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ payload: Record<string, unknown> }>(`SELECT payload FROM audit_log WHERE account_id = $1 AND type = 'file.exported'`, [c.accountId])).rows);
    assert.equal(audit.length, 1);
    assert.deepEqual({ ...audit[0]?.payload, sessionId: undefined }, { sessionId: undefined, events: events.length, procedures: 1, payments: 2 });
  });
});
