/**
 * One complete citizen login over HTTP, as a browser without JavaScript does it: GET the
 * form, post NIR + password, click "Envoyer le code", read the code, post it, GET /account.
 */
import assert from 'node:assert/strict';

class Jar {
  readonly #cookies = new Map<string, string>();
  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (value === '' || /max-age=0/i.test(line)) this.#cookies.delete(pair.slice(0, eq));
      else this.#cookies.set(pair.slice(0, eq), value);
    }
  }
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

const CSRF = /name="_csrf" value="([^"]+)"/;

export async function completeLogin(base: string, account: number, nir: string, password: string): Promise<void> {
  const jar = new Jar();
  const get = async (path: string): Promise<Response> => {
    const res = await fetch(base + path, { headers: { cookie: jar.header() }, redirect: 'manual' });
    jar.store(res);
    return res;
  };
  const post = async (path: string, fields: Record<string, string>, csrf: string): Promise<Response> => {
    const res = await fetch(base + path, {
      method: 'POST',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
      redirect: 'manual',
    });
    jar.store(res);
    await res.arrayBuffer();
    return res;
  };
  const form = await (await get('/login')).text();
  const csrf = CSRF.exec(form)?.[1];
  assert.ok(csrf, 'no CSRF token on /login');
  const step1 = await post('/login', { method: 'password', nir, password }, csrf);
  assert.equal(step1.status, 303, `password refused (${step1.status})`);
  const flow = step1.headers.get('location') ?? '';
  await (await get(flow)).arrayBuffer();
  assert.equal((await post(`${flow}/send`, { method: 'email-code' }, csrf)).status, 303, 'send refused');
  await (await get(flow)).arrayBuffer();
  const { code } = (await (await get(`/__bench/code?i=${account}`)).json()) as { code: string | null };
  assert.ok(code, 'no code in the outbox');
  const done = await post(flow, { method: 'email-code', code }, csrf);
  assert.equal(done.headers.get('location'), '/account', `code refused (${done.status})`);
  const page = await get('/account');
  assert.equal(page.status, 200);
  await page.arrayBuffer();
}
