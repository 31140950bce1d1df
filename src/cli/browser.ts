/**
 * Just enough of a browser for `keygate token`: a cookie jar per host, one request at a time with manual redirects
 * (so every hop is checked against the origins it may visit), and a timeout on every request. Node's own fetch.
 */
export class CliBrowser {
  readonly #jar = new Map<string, Map<string, string>>();

  constructor(
    /** Origins the login may visit: Keygate's and its development provider's. A redirect elsewhere is refused. */
    private readonly origins: ReadonlySet<string>,
    private readonly timeoutMs = 10_000,
  ) {}

  /** One request, no redirect following; `url` must be on an allowed origin. */
  async request(url: URL, init: { method?: string; form?: Record<string, string>; accept?: string } = {}): Promise<Response> {
    if (!this.origins.has(url.origin)) throw new Error(`the login went to ${url.origin}, which is neither Keygate nor its development provider`);
    const headers: Record<string, string> = { accept: init.accept ?? 'text/html' };
    const cookies = this.#jar.get(url.host);
    if (cookies && cookies.size > 0) headers.cookie = [...cookies].map(([n, v]) => `${n}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
      // What a browser sends when a page posts its own form.
      headers['sec-fetch-site'] = 'same-origin';
      headers.origin = url.origin;
    }
    const response = await fetch(url, {
      method: init.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      ...(body === undefined ? {} : { body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    this.#keep(url, response);
    return response;
  }

  #keep(url: URL, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const cookies = this.#jar.get(url.host) ?? new Map<string, string>();
      const expired = attributes.some((a) => /^\s*max-age=(0|-\d+)\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') cookies.delete(name);
      else cookies.set(name, value);
      this.#jar.set(url.host, cookies);
    }
  }
}
