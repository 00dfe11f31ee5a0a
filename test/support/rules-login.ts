import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from './app.ts';
import { Browser } from './login.ts';

/** What a password attempt got back, in the terms the rules speak of. */
export interface Attempt {
  status: number;
  /** Seconds, from the Retry-After header; undefined when there is none. */
  retryAfter: number | undefined;
  /** The error alert of the page (what the citizen reads), undefined when none. */
  alert: string | undefined;
  /** Where a successful attempt goes (the flow's page). */
  location: string | undefined;
  res: LightMyRequestResponse;
  browser: Browser;
}

export const errorAlert = (body: string): string | undefined => /<div class="fr-alert fr-alert--error[\s\S]*?<\/div>/.exec(body)?.[0];

/** A fresh browser from `ip` loads /login and posts NIR + password. */
export async function attemptLogin(t: TestApp, input: { nir: string; password: string; ip?: string; browser?: Browser }): Promise<Attempt> {
  const browser = input.browser ?? new Browser(t);
  if (input.ip) browser.ip = input.ip;
  await browser.get('/login');
  const res = await browser.post('/login', { method: 'password', nir: input.nir, password: input.password });
  const retry = res.headers['retry-after'];
  return {
    status: res.statusCode,
    retryAfter: retry === undefined ? undefined : Number(retry),
    alert: errorAlert(res.body),
    location: res.headers.location === undefined ? undefined : String(res.headers.location),
    res,
    browser,
  };
}

let ipSerial = 0;
/** A documentation-range address no other call in this process returned. */
export function freshIp(): string {
  ipSerial++;
  return `198.18.${Math.floor(ipSerial / 250) % 250}.${(ipSerial % 250) + 1}`;
}
