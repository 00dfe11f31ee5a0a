import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from './app.ts';
import { Browser, citizenWithPassword, logIn, submitPassword, type Citizen } from './login.ts';

/**
 * A phone as device.js is one: an ECDSA P-256 key (here node's), requests signed over
 * ['sesame-device/1', action, nonce, ...fields] in IEEE P1363 form, as WebCrypto signs.
 */
export class TestDevice {
  readonly t: TestApp;
  readonly privateKey: KeyObject;
  readonly spki: Buffer;
  readonly keyId: string;
  /** The nonce the last answer handed out. */
  nonce: string | null = null;

  constructor(t: TestApp) {
    this.t = t;
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.spki = pair.publicKey.export({ format: 'der', type: 'spki' });
    this.keyId = createHash('sha256').update(this.spki).digest('base64url');
  }

  /** Registers this key from a logged-in browser (the /device form, as its script posts it). */
  async register(phone: Browser, name = 'Mon téléphone'): Promise<LightMyRequestResponse> {
    await phone.get('/device');
    return phone.post('/device', { method: 'device-approval', name, publicKey: this.spki.toString('base64url') });
  }

  async post(url: string, body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await this.t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    const json = res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {};
    return { status: res.statusCode, json };
  }

  async freshNonce(): Promise<string> {
    const { status, json } = await this.post('/device/nonce', { device: this.keyId });
    assert.equal(status, 200, 'the device is registered');
    return String(json.nonce);
  }

  sign(action: string, nonce: string, fields: string[], key: KeyObject = this.privateKey): string {
    const data = Buffer.from(JSON.stringify(['sesame-device/1', action, nonce, ...fields]), 'utf8');
    return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  }

  /** A signed request; `tamper` changes the body after signing (forgery tests). */
  async signed(action: string, url: string, fields: string[], extra: Record<string, string>, o: { key?: KeyObject; tamper?: (body: Record<string, unknown>) => void } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
    const cached = this.nonce;
    const nonce = cached ?? (await this.freshNonce());
    this.nonce = null;
    const body: Record<string, unknown> = { device: this.keyId, nonce, signature: this.sign(action, nonce, fields, o.key), ...extra };
    o.tamper?.(body);
    const res = await this.post(url, body);
    this.nonce = typeof res.json.nonce === 'string' ? res.json.nonce : null;
    // As device.js: a kept nonce that went stale (the page slept) is replaced once.
    if (cached !== null && res.status === 401 && res.json.error === 'stale-nonce') return this.signed(action, url, fields, extra, o);
    return res;
  }

  async poll(): Promise<{ id: string; numbers: number[]; service: string; browser: string; place: null; time: string }[]> {
    const { status, json } = await this.signed('poll', '/device/poll', [], {});
    assert.equal(status, 200, `poll refused: ${JSON.stringify(json)}`);
    return json.requests as { id: string; numbers: number[]; service: string; browser: string; place: null; time: string }[];
  }

  async decide(approval: string, decision: 'approve' | 'deny', number = ''): Promise<{ status: number; json: Record<string, unknown> }> {
    return this.signed('decide', '/device/decide', [approval, decision, number], { approval, decision, number });
  }

  async endSessions(approval: string): Promise<{ status: number; json: Record<string, unknown> }> {
    return this.signed('end-sessions', '/device/end-sessions', [approval], { approval });
  }
}

/** The number the waiting page shows. */
export function numberOnPage(body: string): number {
  const match = /id="approval-number">(\d{2})</.exec(body);
  assert.ok(match?.[1], 'the waiting page shows a number');
  return Number(match[1]);
}

/** Password, then « Valider sur mon téléphone »: the waiting page's URL, the approval id and the number shown. */
export async function requestApproval(b: Browser, c: Pick<Citizen, 'nir' | 'password'>, existingFlow?: string): Promise<{ flow: string; wait: string; approvalId: string; number: number }> {
  const { flow, res } = await askApproval(b, c, existingFlow);
  assert.equal(res.statusCode, 303, `request refused: ${res.statusCode}`);
  const wait = String(res.headers.location);
  const page = await b.get(wait);
  assert.equal(page.statusCode, 200);
  return { flow, wait, approvalId: wait.slice(wait.lastIndexOf('/') + 1), number: numberOnPage(page.body) };
}

/** Password (or `existingFlow`), then « Envoyer la demande à mon téléphone », whatever the answer. */
export async function askApproval(b: Browser, c: Pick<Citizen, 'nir' | 'password'>, existingFlow?: string): Promise<{ flow: string; res: LightMyRequestResponse }> {
  const flow = existingFlow ?? (await submitPassword(b, c));
  await b.get(`${flow}/device`);
  return { flow, res: await b.post(`${flow}/device`, { method: 'device-approval' }) };
}

/** A citizen with a phone registered from a fresh login (password + email code) on `phone`. */
export async function citizenWithDevice(t: TestApp, o: { userAgent?: string } = {}): Promise<{ c: Citizen; phone: Browser; device: TestDevice }> {
  const c = await citizenWithPassword(t);
  const phone = new Browser(t);
  if (o.userAgent) phone.userAgent = o.userAgent;
  await logIn(phone, c);
  const device = new TestDevice(t);
  const res = await device.register(phone);
  assert.equal(res.statusCode, 303, 'the device is registered');
  assert.equal(res.headers.location, '/device?done=registered');
  return { c, phone, device };
}

/** Such a citizen, and a computer (another browser) at the waiting page of a login by device approval. */
export async function atApprovalStep(t: TestApp): Promise<Awaited<ReturnType<typeof citizenWithDevice>> & Awaited<ReturnType<typeof requestApproval>> & { computer: Browser }> {
  const withDevice = await citizenWithDevice(t);
  const computer = new Browser(t);
  return { ...withDevice, computer, ...(await requestApproval(computer, withDevice.c)) };
}

/** A number the phone offers for this request other than the one the computer shows. */
export async function wrongNumber(device: TestDevice, approvalId: string, right: number): Promise<number> {
  const request = (await device.poll()).find((r) => r.id === approvalId);
  const wrong = request?.numbers.find((n) => n !== right);
  assert.ok(wrong, 'the phone offers other numbers');
  return wrong;
}
