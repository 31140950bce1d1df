import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Agent } from '../helpers/agent.js';
import { loginAs, startDevKeygate, type TestKeygate } from '../helpers/keygate.js';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One real HTTP request with headers exactly as given (arrays become repeated lines); `body` may be a stream. */
export function send(base: URL, path: string, headers: OutgoingHttpHeaders = {}, method = 'GET', body?: string | Readable): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error(`no answer to ${method} ${path} within 20 s`)));
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (typeof body === 'string') req.end(body);
    else body.pipe(req);
  });
}

export interface Login {
  agent: Agent;
  token: string;
  /** The whole Cookie header the browser sends to Keygate's host. */
  cookie: string;
}

export async function login(kg: TestKeygate, email: string, password: string): Promise<Login> {
  const agent = new Agent();
  const { token } = await loginAs(agent, kg.base, email, password);
  const jar = agent.jar.get(kg.base.host)!;
  return { agent, token, cookie: [...jar].map(([n, v]) => `${n}=${v}`).join('; ') };
}

/** Keygate in dev mode in front of `upstream`, with ROUTES written to a temporary file. */
export async function startProxy(upstream: string, routes: unknown[] = [], env: Record<string, string> = {}): Promise<TestKeygate & { cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-proxy-'));
  writeFileSync(join(dir, 'routes.json'), JSON.stringify(routes));
  const kg = await startDevKeygate({ UPSTREAM: upstream, ROUTES: join(dir, 'routes.json'), ...env });
  return {
    ...kg,
    async cleanup() {
      await kg.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
