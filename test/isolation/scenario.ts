import { parseAddress } from '../../src/account-area/contact/address.ts';
import type { CodeInbox } from './code-inbox.ts';
import { HttpBrowser, type HttpResponse } from './http-browser.ts';
import type { LeakDetector } from './leaks.ts';
import { PROCEDURE_REFERENCE } from './leaks.ts';
import { PASSWORD, type SeededCitizen } from './seed.ts';
import type { RunStats } from './stats.ts';
import { maskedIban } from '../support/french-ibans.ts';

/**
 * What each citizen does during the run, one request at a time, each request to a server
 * process picked at random (a login started on one process goes on on another, a form read
 * from one is posted to another). Every answer is read for other citizens' data, and its
 * caching headers checked; what the citizen changed is remembered to compare with their file.
 */

export interface Expected {
  /** Every phone number set, in order, as stored (E.164). */
  phones: string[];
  /** Every procedure filed: id → kind. */
  procedures: Map<string, string>;
  /** Every postal address set (by an address-change procedure), in order, as stored. */
  addresses: string[];
}

export interface Actor {
  c: SeededCitizen;
  b: HttpBrowser;
  expected: Expected;
  /** Changes whose answer was lost (error, timeout): their outcome is unknown. */
  uncertain: number;
  n: number;
  loggedIn: boolean;
}

export interface RunContext {
  bases: string[];
  inbox: CodeInbox;
  leaks: LeakDetector;
  stats: RunStats;
  today: string;
}

const ONE_REFERENCE = new RegExp(PROCEDURE_REFERENCE.source);
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

export function newActor(c: SeededCitizen): Actor {
  return { c, b: new HttpBrowser(), expected: { phones: [], procedures: new Map(), addresses: [] }, uncertain: 0, n: 0, loggedIn: false };
}

const pick = (n: number): number => Math.floor(Math.random() * n);

/** One request to a random process: counted, its status and headers checked, its body read for leaks. */
async function hit(ctx: RunContext, a: Actor, route: string, send: (base: string) => Promise<HttpResponse>, expect: readonly number[], personal = true): Promise<HttpResponse> {
  const server = pick(ctx.bases.length);
  const res = await send(ctx.bases[server] ?? '');
  ctx.stats.request(route, server, res.ms);
  if (!expect.includes(res.status)) {
    const title = /<title>([^<]*)<\/title>/.exec(res.body)?.[1]?.trim() ?? res.body.slice(0, 120);
    // What the page says went wrong (field errors, alerts): reason codes and wording, never values typed.
    const said = [...res.body.matchAll(/class="[^"]*\bfr-(?:message--error|alert__title)\b[^"]*"[^>]*>([^<]{1,160})</g)].map((m) => m[1]?.trim()).slice(0, 3);
    ctx.stats.problem({ route, server, what: `${res.status}${res.location ? ` → ${res.location}` : ''} (${title})${said.length > 0 ? `: ${said.join(' / ')}` : ''}` }, `status ${res.status}`);
  }
  if (personal && res.status === 200) {
    const cache = res.headers.get('cache-control') ?? '';
    const vary = res.headers.get('vary') ?? '';
    if (!/no-store/.test(cache) || !/private/.test(cache) || !/cookie/i.test(vary)) {
      ctx.stats.problem({ route, server, what: `cacheable personal page (cache-control: ${cache}; vary: ${vary})` }, 'cache headers');
    }
  }
  for (const leak of ctx.leaks.scan(a.c.index, route, res.body)) {
    ctx.stats.problem({ route, server, what: `${leak.kind} of citizen ${leak.owner} shown to citizen ${leak.receiver}` }, 'LEAK');
  }
  return res;
}

function mustContain(ctx: RunContext, route: string, res: HttpResponse, what: string, text: string): void {
  if (res.status === 200 && !res.body.includes(text)) ctx.stats.problem({ route, server: -1, what: `the page lacks the citizen's own ${what}` }, `own ${what} missing`);
}

/** Password, then the code mailed to the citizen (read from the SMTP server), each step on any process. */
export async function logIn(ctx: RunContext, a: Actor): Promise<void> {
  const { b, c } = a;
  await hit(ctx, a, 'GET /login', (base) => b.get(base, '/login'), [200], false);
  const pw = await hit(ctx, a, 'POST /login', (base) => b.post(base, '/login', { method: 'password', nir: c.nir, password: PASSWORD }), [303], false);
  const flow = pw.location ?? '';
  if (!new RegExp(`^/login/${UUID}$`).test(flow)) throw new Error(`login of citizen ${c.index}: password step answered ${pw.status}`);
  await hit(ctx, a, 'GET /login/:flow', (base) => b.get(base, flow), [200], false);
  const sent = await hit(ctx, a, 'POST /login/:flow/send', (base) => b.post(base, `${flow}/send`, { method: 'email-code' }), [303], false);
  if (sent.status !== 303) throw new Error(`login of citizen ${c.index}: sending the code answered ${sent.status}`);
  await hit(ctx, a, 'GET /login/:flow', (base) => b.get(base, flow), [200], false);
  const code = await ctx.inbox.nextCode(c.email);
  const done = await hit(ctx, a, 'POST /login/:flow', (base) => b.post(base, flow, { method: 'email-code', code }), [303], false);
  if (done.location !== '/account') throw new Error(`login of citizen ${c.index}: the code answered ${done.status} → ${done.location ?? ''}`);
  a.loggedIn = true;
}

/** The n-th phone number of citizen i: 06 + 3 digits of i + 5 of n; stored as +336…. */
function phoneOf(index: number, n: number): { typed: string; stored: string } {
  const digits = `6${String(index % 1000).padStart(3, '0')}${String(n % 100_000).padStart(5, '0')}`;
  return { typed: `0${digits}`.replace(/(\d{2})(?=\d)/g, '$1 '), stored: `+33${digits}` };
}

const monthOf = (iso: string, offset: number): string => {
  const d = new Date(`${iso.slice(0, 7)}-15T12:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + offset);
  return d.toISOString().slice(0, 7);
};

export type ActionName = 'overview' | 'phone' | 'procedure' | 'address' | 'procedures' | 'procedure-detail' | 'payments' | 'bank-details';

/** Each action: its requests, in the order a person clicking through would make them. */
export const ACTIONS: Record<ActionName, (ctx: RunContext, a: Actor) => Promise<void>> = {
  async overview(ctx, a) {
    const res = await hit(ctx, a, 'GET /account', (base) => a.b.get(base, '/account'), [200]);
    mustContain(ctx, 'GET /account', res, 'name', a.c.familyName);
  },

  async phone(ctx, a) {
    const page = await hit(ctx, a, 'GET /account/contact', (base) => a.b.get(base, '/account/contact'), [200]);
    const shown = HttpBrowser.formField(page.body, '/account/contact/phone', 'shown');
    if (shown === undefined) return;
    const phone = phoneOf(a.c.index, ++a.n);
    const res = await hit(ctx, a, 'POST /account/contact/phone', (base) => a.b.post(base, '/account/contact/phone', { shown, phone: phone.typed }), [303]);
    if (res.status === 303 && res.location === '/account/contact?done=phone-changed') a.expected.phones.push(phone.stored);
    else if (res.status >= 500) a.uncertain++;
    else if (res.status === 303) ctx.stats.problem({ route: 'POST /account/contact/phone', server: -1, what: `redirected to ${res.location ?? ''}` }, 'phone not changed');
  },

  async procedure(ctx, a) {
    const path = '/account/procedures/new/payment-certificate';
    await hit(ctx, a, `GET ${path}`, (base) => a.b.get(base, path), [200]);
    const res = await hit(ctx, a, `POST ${path}`, (base) => a.b.post(base, path, { from: monthOf(ctx.today, -3), to: monthOf(ctx.today, 0) }), [303]);
    const id = new RegExp(`^/account/procedures/(${UUID})`).exec(res.location ?? '')?.[1];
    if (!id) {
      if (res.status >= 500) a.uncertain++;
      return;
    }
    a.expected.procedures.set(id, 'payment-certificate');
    const detail = await hit(ctx, a, 'GET /account/procedures/:id', (base) => a.b.get(base, `/account/procedures/${id}`), [200]);
    if (detail.status === 200 && !ONE_REFERENCE.test(detail.body)) ctx.stats.problem({ route: 'GET /account/procedures/:id', server: -1, what: 'no reference on the page' }, 'own reference missing');
  },

  async address(ctx, a) {
    const path = '/account/procedures/new/address-change';
    await hit(ctx, a, `GET ${path}`, (base) => a.b.get(base, path), [200]);
    const street = `${++a.n} rue Isoq${a.c.code}`;
    const res = await hit(
      ctx,
      a,
      `POST ${path}`,
      (base) => a.b.post(base, path, { street, complement: '', postalCode: '93100', city: 'Montreuil', moveDate: ctx.today }),
      [303],
    );
    const id = new RegExp(`^/account/procedures/(${UUID})`).exec(res.location ?? '')?.[1];
    if (!id) {
      if (res.status >= 500) a.uncertain++;
      return;
    }
    a.expected.procedures.set(id, 'address-change');
    // As the file stores it, by the app's own rules (the contact page's layout).
    const stored = parseAddress({ street, complement: '', postcode: '93100', city: 'Montreuil', country: '' });
    a.expected.addresses.push(stored.ok ? stored.value : street);
  },

  async procedures(ctx, a) {
    await hit(ctx, a, 'GET /account/procedures', (base) => a.b.get(base, '/account/procedures'), [200]);
  },

  async 'procedure-detail'(ctx, a) {
    const ids = [...a.expected.procedures.keys()];
    const id = ids[pick(ids.length)];
    if (!id) return ACTIONS.procedures(ctx, a);
    await hit(ctx, a, 'GET /account/procedures/:id', (base) => a.b.get(base, `/account/procedures/${id}`), [200]);
  },

  async payments(ctx, a) {
    const res = await hit(ctx, a, 'GET /account/payments', (base) => a.b.get(base, '/account/payments'), [200]);
    mustContain(ctx, 'GET /account/payments', res, 'IBAN (masked)', maskedIban(a.c.iban));
  },

  async 'bank-details'(ctx, a) {
    const res = await hit(ctx, a, 'GET /account/bank-details', (base) => a.b.get(base, '/account/bank-details'), [200]);
    mustContain(ctx, 'GET /account/bank-details', res, 'IBAN (masked)', maskedIban(a.c.iban));
  },
};

/** How often each action is chosen (the reads dominate, as on the real site). */
export const MIX: readonly (readonly [ActionName, number])[] = [
  ['overview', 22],
  ['phone', 18],
  ['procedure', 10],
  ['address', 3],
  ['procedures', 10],
  ['procedure-detail', 7],
  ['payments', 15],
  ['bank-details', 15],
];

const TOTAL = MIX.reduce((s, [, w]) => s + w, 0);

export function pickAction(): ActionName {
  let r = Math.random() * TOTAL;
  for (const [name, w] of MIX) {
    r -= w;
    if (r < 0) return name;
  }
  return 'overview';
}

/** The citizen's requests until the deadline; an exception (lost connection…) is counted and the loop goes on. */
export async function citizenLoop(ctx: RunContext, a: Actor, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const action = pickAction();
    try {
      await ACTIONS[action](ctx, a);
    } catch (err) {
      if (action === 'phone' || action === 'procedure' || action === 'address') a.uncertain++;
      ctx.stats.problem({ route: action, server: -1, what: (err as Error).message }, 'exception');
    }
  }
}
