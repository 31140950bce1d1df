import { invalidRequest } from '../errors.js';
import { allowlistOption } from '../keygate/validate.js';
import { compilePolicy, type CompiledPolicy } from '../policy/route.js';
import { checkTokenList } from '../policy/types.js';

/**
 * One route rule of `ROUTES` (a JSON array; the first rule that matches decides). `path` is a normalised path in
 * which `*` stands for any characters, `/` included; a pattern ending in `/*` also matches the bare prefix
 * (`/public/*` matches `/public`). Without `methods` a rule matches every method. A `public` rule lets anyone in;
 * the others need a logged-in user who passes every given part (`users`: e-mails and `@domain` entries, `scopes`,
 * `permissions`).
 */
export interface RouteRule {
  path: string;
  methods?: readonly string[];
  public?: boolean;
  users?: readonly string[];
  scopes?: readonly string[];
  permissions?: readonly string[];
}

/** A rule ready to match: its index in the list, whether it is public, and its policy. */
export interface MatchedRule {
  index: number;
  public: boolean;
  policy: CompiledPolicy;
}

const KNOWN = new Set(['path', 'methods', 'public', 'users', 'scopes', 'permissions']);
export const METHOD = /^[A-Z]{1,20}$/;

/**
 * Validates parsed `ROUTES` JSON, pushing every problem (each naming `name[i].field`) into `problems`; returns the
 * rules that passed, frozen.
 */
export function checkRouteRules(name: string, value: unknown, problems: string[]): readonly RouteRule[] {
  if (!Array.isArray(value)) {
    problems.push(`${name}: must be a JSON array of rules`);
    return [];
  }
  const rules: RouteRule[] = [];
  value.forEach((item: unknown, i) => {
    const at = `${name}[${i}]`;
    const before = problems.length;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(`${at}: must be an object`);
      return;
    }
    const rule = item as Record<string, unknown>;
    for (const key of Object.keys(rule)) if (!KNOWN.has(key)) problems.push(`${at}.${key}: unknown field (known: ${[...KNOWN].join(', ')})`);
    const path = rule.path;
    if (typeof path !== 'string' || !/^\/[\x21-\x7e]*$/.test(path)) problems.push(`${at}.path: must be a path starting with "/" (printable ASCII)`);
    else if (/[?#\\%]|\/\/|(^|\/)\.\.?(\/|$)/.test(path)) problems.push(`${at}.path: "${path}" is not normalised (no "?", "#", "\\", "%", "//" or dot-segments)`);
    if (rule.methods !== undefined) {
      const methods = checkTokenList(`${at}.methods`, rule.methods, problems);
      for (const m of methods) if (!METHOD.test(m)) problems.push(`${at}.methods: "${m}" is not an upper-case method name`);
    }
    if (rule.public !== undefined && typeof rule.public !== 'boolean') problems.push(`${at}.public: must be true or false`);
    if (rule.users !== undefined) allowlistOption(`${at}.users`, rule.users, problems);
    if (rule.scopes !== undefined) checkTokenList(`${at}.scopes`, rule.scopes, problems);
    if (rule.permissions !== undefined) checkTokenList(`${at}.permissions`, rule.permissions, problems);
    if (rule.public === true && (rule.users !== undefined || rule.scopes !== undefined || rule.permissions !== undefined)) {
      problems.push(`${at}: a public rule cannot also require users, scopes or permissions`);
    }
    if (problems.length === before) rules.push(Object.freeze({ ...(rule as unknown as RouteRule) }));
  });
  return Object.freeze(rules);
}

function patternOf(path: string, flags: string): RegExp {
  const body = path.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  // "/public/*" also covers "/public" itself.
  const source = path.endsWith('/*') ? `^(?:${body}|${body.slice(0, -3)})$` : `^${body}$`;
  return new RegExp(source, flags);
}

/** The rules compiled once: `match` finds the first rule for a normalised path and method. */
export function compileRules(rules: readonly RouteRule[]): (method: string, path: string) => MatchedRule | undefined {
  const compiled = rules.map((rule, index) => ({
    index,
    exact: patternOf(rule.path, ''),
    folded: patternOf(rule.path, 'i'),
    methods: rule.methods === undefined ? undefined : new Set(rule.methods),
    matched: Object.freeze({
      index,
      public: rule.public === true,
      policy: compilePolicy({
        ...(rule.users ? { allowlist: rule.users } : {}),
        ...(rule.scopes ? { scopes: rule.scopes } : {}),
        ...(rule.permissions ? { permissions: rule.permissions } : {}),
      }),
    }),
  }));
  return (method, path) => {
    let exact: (typeof compiled)[number] | undefined;
    let folded: (typeof compiled)[number] | undefined;
    for (const rule of compiled) {
      if (rule.methods !== undefined && !rule.methods.has(method)) continue;
      if (exact === undefined && rule.exact.test(path)) exact = rule;
      if (folded === undefined && rule.folded.test(path)) folded = rule;
      if (exact !== undefined && folded !== undefined) break;
    }
    // Paths are case-sensitive, but many upstreams are not: a path that another rule would take but for letter case
    // ("/ADMIN/x" against "/admin/*") is ambiguous, and never falls through to a weaker rule.
    if (exact !== folded) throw invalidRequest('The original path matches a route rule only when letter case is ignored; use the exact case.');
    return exact?.matched;
  };
}
