/**
 * A browser without a browser, for page tests over HTTP: keeps cookies, reads the CSRF token from
 * the last page, and posts forms as a browser would (urlencoded, no redirects followed).
 */
export class FormClient {
  readonly cookies = new Map<string, string>();
  lastPage = '';
  readonly #origin: string;

  constructor(origin: string) {
    this.#origin = origin;
  }

  async get(path: string) {
    return this.#send('GET', path);
  }

  /** Posts a form with the CSRF token of the last page fetched (unless `csrf: null`). */
  async post(path: string, fields: Record<string, string> = {}, options: { csrf?: string | null } = {}) {
    const csrf = options.csrf === undefined ? this.csrfToken() : options.csrf;
    const body = new URLSearchParams({ ...(csrf === null ? {} : { _csrf: csrf }), ...fields });
    return this.#send('POST', path, body);
  }

  csrfToken(): string {
    const match = /name="_csrf" value="([^"]+)"/.exec(this.lastPage);
    if (!match) throw new Error('The last page had no form with a CSRF token');
    return match[1]!;
  }

  async #send(method: string, path: string, body?: URLSearchParams) {
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(`${this.#origin}${path}`, { method, headers, body, redirect: 'manual' });
    const setCookies = res.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index);
      const value = pair!.slice(index + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    if (res.status === 200 || res.status >= 400) this.lastPage = text;
    return { status: res.status, location: res.headers.get('location'), text, setCookies };
  }
}
