import type { DevUser } from './types.js';

/** The demo users of `npm start`; the login page shows them. Permissions appear in access tokens (with AUDIENCE). */
export const DEFAULT_DEV_USERS: readonly DevUser[] = Object.freeze([
  { email: 'alice@example.com', password: 'alice', name: 'Alice Example', permissions: Object.freeze(['read:messages', 'write:messages']) },
  { email: 'bob@example.com', password: 'bob', name: 'Bob Example', permissions: Object.freeze(['read:messages']) },
]);

const EMAIL = /^[^@\s]+@[^@\s]+$/;
/** A permission is one word (RFC 6749 scope-token characters), as Auth0 writes them: `read:messages`. */
const PERMISSION = /^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/;

/**
 * `DEV_USERS`, in one of two forms:
 * - a comma list of `email:password[:name]` (no permissions);
 * - a JSON array `[{"email", "password", "name"?, "permissions"?: ["read:messages", …], "email_verified"?: false}]`
 *   (`email_verified: false` makes a user whose address the provider has not verified, to test what that refuses).
 */
export function parseDevUsers(value: string, problems: string[]): DevUser[] {
  const before = problems.length;
  const users = value.trimStart().startsWith('[') ? fromJson(value, problems) : fromList(value, problems);
  const seen = new Set<string>();
  for (const user of users) {
    if (seen.has(user.email)) problems.push(`DEV_USERS: ${user.email} is listed twice`);
    seen.add(user.email);
  }
  if (users.length === 0 && problems.length === before) problems.push('DEV_USERS: no user in the list');
  return users;
}

function fromList(value: string, problems: string[]): DevUser[] {
  const users: DevUser[] = [];
  for (const entry of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [email, password, ...nameParts] = entry.split(':');
    if (!email || !password || !EMAIL.test(email)) {
      problems.push(`DEV_USERS: "${entry}" is not email:password[:name]`);
      continue;
    }
    users.push({ email: email.toLowerCase(), password, name: nameParts.join(':') || email.split('@')[0]! });
  }
  return users;
}

function fromJson(value: string, problems: string[]): DevUser[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    problems.push(`DEV_USERS: not valid JSON (${(error as Error).message})`);
    return [];
  }
  if (!Array.isArray(parsed)) {
    problems.push('DEV_USERS: the JSON form must be an array of {"email", "password", "name"?, "permissions"?}');
    return [];
  }
  const users: DevUser[] = [];
  for (const [i, item] of parsed.entries()) {
    const where = `DEV_USERS: user #${i + 1}`;
    const o = (typeof item === 'object' && item !== null && !Array.isArray(item) ? item : {}) as Record<string, unknown>;
    const { email, password, name, permissions, email_verified: emailVerified } = o;
    const unknown = Object.keys(o).filter((k) => !['email', 'password', 'name', 'permissions', 'email_verified'].includes(k));
    const wrong: string[] = [];
    if (typeof email !== 'string' || !EMAIL.test(email)) wrong.push('"email" must be an e-mail address');
    if (typeof password !== 'string' || password === '') wrong.push('"password" must be a non-empty string');
    if (name !== undefined && (typeof name !== 'string' || name.trim() === '')) wrong.push('"name" must be a non-empty string');
    const permissionsOk = permissions === undefined
      || (Array.isArray(permissions) && permissions.every((p) => typeof p === 'string' && PERMISSION.test(p)));
    if (!permissionsOk) wrong.push('"permissions" must be an array of words such as "read:messages"');
    if (emailVerified !== undefined && typeof emailVerified !== 'boolean') wrong.push('"email_verified" must be true or false');
    if (unknown.length) wrong.push(`unknown field(s) ${unknown.map((k) => `"${k}"`).join(', ')}`);
    if (wrong.length) {
      problems.push(`${where}: ${wrong.join('; ')}`);
      continue;
    }
    const address = (email as string).toLowerCase();
    users.push({
      email: address,
      password: password as string,
      name: typeof name === 'string' ? name : address.split('@')[0]!,
      ...(permissions === undefined ? {} : { permissions: Object.freeze([...new Set(permissions as string[])]) }),
      ...(emailVerified === false ? { emailVerified: false } : {}),
    });
  }
  return users;
}
