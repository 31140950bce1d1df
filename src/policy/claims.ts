import { BearerError } from '../errors.js';
import type { VerifiedToken } from '../token/verifier.js';
import type { PolicyCheck } from './types.js';

type Claims = VerifiedToken['claims'];

/**
 * A requirement on one claim:
 * - `{ equals: v }`: the claim is exactly `v` (a string, number or boolean);
 * - `{ includes: v }`: the claim is an array holding `v`, or a space-separated string with `v` as one word;
 * - a function of the claim's value (undefined when absent) and all claims, returning true to pass.
 */
export type ClaimRule =
  | { equals: string | number | boolean }
  | { includes: string | number }
  | ((value: unknown, claims: Readonly<Claims>) => boolean);

/** Names, for the error description, never the claim's value. */
function failed(name: string): BearerError {
  return new BearerError('insufficient_scope', `The token's "${name}" claim does not meet this resource's requirement.`);
}

export function checkClaimRules(name: string, value: unknown, problems: string[]): Record<string, ClaimRule> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${name}: must be an object mapping claim names to rules`);
    return {};
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) problems.push(`${name}: empty; leave it out to require nothing`);
  for (const [claim, rule] of entries) {
    if (typeof rule === 'function') continue;
    const keys = typeof rule === 'object' && rule !== null ? Object.keys(rule) : [];
    const inner = keys.length === 1 ? (rule as Record<string, unknown>)[keys[0]!] : undefined;
    if (keys.length === 1 && keys[0] === 'equals' && ['string', 'number', 'boolean'].includes(typeof inner)) continue;
    if (keys.length === 1 && keys[0] === 'includes' && ['string', 'number'].includes(typeof inner)) continue;
    problems.push(`${name}.${claim}: must be { equals: string|number|boolean }, { includes: string|number } or a function`);
  }
  return value as Record<string, ClaimRule>;
}

function passes(rule: ClaimRule, value: unknown, claims: Claims): boolean {
  if (typeof rule === 'function') return rule(value, claims) === true;
  if ('equals' in rule) return value === rule.equals;
  if (Array.isArray(value)) return value.includes(rule.includes);
  return typeof value === 'string' && typeof rule.includes === 'string' && value.split(' ').includes(rule.includes);
}

/** Every rule must pass (403 insufficient_scope naming the claim otherwise). A rule that throws is a bug: it propagates. */
export function requireClaims(rules: Readonly<Record<string, ClaimRule>>): PolicyCheck {
  const list = Object.entries(rules);
  return ({ claims }) => {
    for (const [name, rule] of list) {
      const value = Object.prototype.hasOwnProperty.call(claims, name) ? claims[name] : undefined;
      if (!passes(rule, value, claims)) throw failed(name);
    }
  };
}
