/** Calling `POST /introspect` as a service would: HTTP Basic (form-urlencoded id and secret), a form body. */
export const CLIENT = { id: 'billing-service', secret: 'introspection-fixture-secret-0123456789abcdef' };
export const OTHER = { id: 'reports', secret: 'another-introspection-fixture-secret-987654321' };
export const CLIENTS_ENV = `${CLIENT.id}:${CLIENT.secret},${OTHER.id}:${OTHER.secret}`;

export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export interface Introspection {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/** Posts `body` (a form string) to `/introspect` with `authorization` (null: none). */
export async function introspect(base: URL, body: string, authorization: string | null = basic(CLIENT.id, CLIENT.secret), type = 'application/x-www-form-urlencoded'): Promise<Introspection> {
  const headers: Record<string, string> = { 'content-type': type };
  if (authorization !== null) headers.authorization = authorization;
  const response = await fetch(new URL('/introspect', base), { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: response.headers };
}

export const tokenForm = (token: string, extra = '') => `token=${encodeURIComponent(token)}${extra}`;
