/**
 * A small browser-like HTTP client for flow tests: a cookie jar per host, manual redirects so every hop can be
 * inspected, and form posts. Real HTTP over loopback; nothing is mocked.
 */
export interface Hop {
  url: string;
  status: number;
  location?: string;
}

export class Agent {
  readonly jar = new Map<string, Map<string, string>>();
  readonly hops: Hop[] = [];

  constructor(readonly defaultHeaders: Record<string, string> = {}) {}

  cookie(host: string, name: string): string | undefined {
    return this.jar.get(host)?.get(name);
  }

  #store(url: URL, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const cookies = this.jar.get(url.host) ?? new Map<string, string>();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') cookies.delete(name);
      else cookies.set(name, value);
      this.jar.set(url.host, cookies);
    }
  }

  /** One request, no redirect following. */
  async request(input: string | URL, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
    const url = new URL(input);
    const cookies = this.jar.get(url.host);
    const headers: Record<string, string> = { ...this.defaultHeaders, ...(init.headers ?? {}) };
    if (cookies && cookies.size > 0 && headers.cookie === undefined) {
      headers.cookie = [...cookies].map(([n, v]) => `${n}=${v}`).join('; ');
    }
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.#store(url, response);
    const location = response.headers.get('location');
    this.hops.push({ url: url.href, status: response.status, ...(location ? { location } : {}) });
    return response;
  }

  /** Follows redirects like a browser (303 and 302 after POST become GET), up to `max` hops. */
  async follow(input: string | URL, init: RequestInit & { headers?: Record<string, string> } = {}, max = 15): Promise<{ response: Response; url: URL }> {
    let url = new URL(input);
    let currentInit = init;
    for (let i = 0; i < max; i++) {
      const response = await this.request(url, currentInit);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.arrayBuffer();
        url = new URL(location, url);
        if (response.status === 303 || ((response.status === 302 || response.status === 301) && currentInit.method === 'POST')) {
          currentInit = { headers: { ...(init.headers ?? {}) } };
        }
        continue;
      }
      return { response, url };
    }
    throw new Error(`too many redirects from ${String(input)}`);
  }

  /** Submits a urlencoded form like a browser on a same-origin page. */
  async submit(action: URL, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<{ response: Response; url: URL }> {
    return this.follow(action, {
      method: 'POST',
      body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', ...headers },
    });
  }
}

/** The first `<form>` whose action contains `actionPart`, with its hidden inputs. */
export function findForm(html: string, actionPart: string, base: URL): { action: URL; fields: Record<string, string> } {
  const forms = html.match(/<form[\s\S]*?<\/form>/g) ?? [];
  for (const form of forms) {
    const action = /action="([^"]*)"/.exec(form)?.[1];
    if (action === undefined || !decode(action).includes(actionPart)) continue;
    const fields: Record<string, string> = {};
    for (const input of form.match(/<input[^>]*>/g) ?? []) {
      const name = /name="([^"]*)"/.exec(input)?.[1];
      const value = /value="([^"]*)"/.exec(input)?.[1];
      if (name !== undefined && /type="hidden"/.test(input)) fields[decode(name)] = decode(value ?? '');
    }
    return { action: new URL(decode(action), base), fields };
  }
  throw new Error(`no form with action containing ${actionPart} in:\n${html.slice(0, 2000)}`);
}

export function decode(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x2F;/gi, '/')
    .replace(/&amp;/g, '&');
}
