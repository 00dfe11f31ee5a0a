/**
 * A browser without JavaScript over real HTTP: cookies kept between requests (whichever
 * server process answers: the cookies are the same for all of them), the CSRF field read
 * from the last form, redirects not followed (the caller looks at them).
 */

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Where a redirect goes, as the server wrote it. */
  location: string | null;
  body: string;
  /** Milliseconds from sending to the end of the body. */
  ms: number;
}

const CSRF = /<input type="hidden" name="_csrf" value="([^"]+)">/;

export class HttpBrowser {
  readonly #cookies = new Map<string, string>();
  lastPage = '';
  readonly userAgent: string;

  constructor(userAgent = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0') {
    this.userAgent = userAgent;
  }

  cookie(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  #store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const expired = value === '' || /max-age=0\b/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line);
      if (expired) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  #header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async #send(url: string, init: RequestInit): Promise<HttpResponse> {
    const started = performance.now();
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: this.#header(), 'user-agent': this.userAgent, 'accept-language': 'fr-FR,fr;q=0.9' },
    });
    this.#store(res);
    const body = await res.text();
    if (res.headers.get('content-type')?.startsWith('text/html') && CSRF.test(body)) this.lastPage = body;
    return { status: res.status, headers: res.headers, location: res.headers.get('location'), body, ms: performance.now() - started };
  }

  /** The value of a hidden field of the form posting to `action` in `page` (undefined if there is none). */
  static formField(page: string, action: string, name: string): string | undefined {
    const start = page.indexOf(`action="${action}"`);
    if (start < 0) return undefined;
    const form = page.slice(start, page.indexOf('</form>', start));
    return new RegExp(`name="${name}" value="([^"]*)"`).exec(form)?.[1];
  }

  get(base: string, path: string): Promise<HttpResponse> {
    return this.#send(base + path, { method: 'GET' });
  }

  /** Posts a form with the CSRF token of the last page that had a form (or of `page`). */
  post(base: string, path: string, fields: Record<string, string>, page = this.lastPage): Promise<HttpResponse> {
    const token = CSRF.exec(page)?.[1];
    if (!token) throw new Error(`no _csrf field in the page before POST ${path}`);
    return this.#send(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token, ...fields }).toString(),
    });
  }
}
