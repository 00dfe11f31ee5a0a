import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/crypto/random.ts';
import type { Browser } from '../support/login.ts';
import { accountRows, carriesNothingOf, sameAsUnknown, victimAndAttacker } from '../support/idor.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * IDOR on procedures: the attacker puts the id of another citizen's procedure in the URL of
 * its detail page or of its printable certificate (which lists the victim's identity and
 * payments). Both answer exactly like an id that exists nowhere: 404, nothing of the victim's
 * in the page, and nothing in the victim's file changes.
 */

/** Files a procedure through its form, as the citizen would; returns its id and reference. */
async function file(b: Browser, kind: string, fields: Record<string, string>): Promise<{ id: string; reference: string }> {
  await b.get(`/account/procedures/new/${kind}`);
  const res = await b.post(`/account/procedures/new/${kind}`, fields);
  assert.equal(res.statusCode, 303, `${kind} filed`);
  const id = /^\/account\/procedures\/([0-9a-f-]{36})/.exec(String(res.headers.location))?.[1];
  assert.ok(id);
  const page = await b.get(`/account/procedures/${id}`);
  assert.equal(page.statusCode, 200);
  const reference = /D-\d{4}-[2-9A-HJ-NP-Z]{8}/.exec(page.body)?.[0];
  assert.ok(reference, 'the detail page gives the reference');
  return { id, reference };
}

onEachBackend('IDOR: another citizen’s procedure', ({ t, tdb }) => {
  test('detail and certificate of the victim’s procedures: 404 like an unknown id, nothing shown, nothing changed', async () => {
    const { victim, attacker } = await victimAndAttacker(t);
    const certificate = await file(victim.b, 'payment-certificate', { from: '2025-02', to: '2026-01' });
    const move = await file(victim.b, 'address-change', { street: '8 rue des Victimes', complement: '', postalCode: '69003', city: 'Lyon', moveDate: '2026-01-10' });
    assert.equal((await victim.b.get(`/account/procedures/${certificate.id}/certificate`)).statusCode, 200, 'the owner gets the certificate');
    const before = await accountRows(tdb, victim.c.accountId);

    const unknown = newId();
    const unknownDetail = await attacker.b.get(`/account/procedures/${unknown}`);
    const unknownCertificate = await attacker.b.get(`/account/procedures/${unknown}/certificate`);
    assert.equal(unknownDetail.statusCode, 404);
    assert.equal(unknownCertificate.statusCode, 404);
    for (const p of [certificate, move]) {
      const detail = await attacker.b.get(`/account/procedures/${p.id}`);
      sameAsUnknown(detail, unknownDetail, 'the detail page');
      carriesNothingOf(detail, victim.c, [p.reference, '8 rue des Victimes']);
      const printable = await attacker.b.get(`/account/procedures/${p.id}/certificate`);
      sameAsUnknown(printable, unknownCertificate, 'the certificate');
      carriesNothingOf(printable, victim.c, [p.reference]);
    }
    const list = await attacker.b.get('/account/procedures');
    assert.equal(list.statusCode, 200);
    carriesNothingOf(list, victim.c, [certificate.reference, move.reference, certificate.id, move.id]);

    assert.deepEqual(await accountRows(tdb, victim.c.accountId), before, 'none of the victim’s rows changed');
  });

  test('an id that is not a UUID, or differs from the victim’s by case, is no way in either', async () => {
    const { victim, attacker } = await victimAndAttacker(t);
    const p = await file(victim.b, 'payment-certificate', { from: '2025-06', to: '2025-12' });
    for (const id of [p.id.toUpperCase(), `${p.id}%20`, `${p.id}/`, `${p.id}%00`, `../${p.id}`]) {
      const res = await attacker.b.get(`/account/procedures/${id}`);
      assert.equal(res.statusCode, 404, `${JSON.stringify(id)}: not found`);
      carriesNothingOf(res, victim.c, [p.reference]);
    }
  });
});
