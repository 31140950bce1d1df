import { createHash, timingSafeEqual } from 'node:crypto';
import type { Account, AccountClaims, FindAccount } from 'oidc-provider';
import type { DevUser } from '../config/types.js';

/** A demo user as the provider sees it: a stable subject and the claims it releases. */
export interface DevAccount {
  readonly sub: string;
  readonly user: DevUser;
}

/** Stable subject for a demo user: `dev|<lower-cased e-mail>` (unique, and the same across restarts). */
export function subjectFor(user: DevUser): string {
  return `dev|${user.email.trim().toLowerCase()}`;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** A tiny picture with the user's initials, as a data: URI (nothing is loaded from elsewhere). */
function pictureFor(user: DevUser): string {
  const initials = user.name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0]?.toUpperCase() ?? '')
    .join('')
    .replace(/[^A-Z0-9]/g, '') || '?';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">`
    + `<rect width="64" height="64" rx="32" fill="#3b5bdb"/>`
    + `<text x="32" y="41" font-family="sans-serif" font-size="24" text-anchor="middle" fill="#fff">${initials}</text></svg>`;
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}

/** The demo users, looked up by subject or by (case-insensitive) e-mail. */
export class AccountDirectory {
  readonly #bySub = new Map<string, DevAccount>();
  readonly #byEmail = new Map<string, DevAccount>();
  readonly #users: readonly DevUser[];

  constructor(users: readonly DevUser[]) {
    this.#users = users;
    for (const user of users) {
      const account: DevAccount = { sub: subjectFor(user), user };
      this.#bySub.set(account.sub, account);
      this.#byEmail.set(user.email.trim().toLowerCase(), account);
    }
  }

  get users(): readonly DevUser[] {
    return this.#users;
  }

  bySub(sub: string): DevAccount | undefined {
    return this.#bySub.get(sub);
  }

  /** Checks e-mail (case-insensitive) and password (constant-time on digests). Never logs anything. */
  authenticate(email: string, password: string): DevAccount | undefined {
    const account = this.#byEmail.get(email.trim().toLowerCase());
    // Compare against something even for unknown users, so timing does not reveal which e-mails exist.
    const expected = digest(account ? account.user.password : '\u0000no-such-user');
    const matches = timingSafeEqual(expected, digest(password));
    return account && matches ? account : undefined;
  }

  /** Every claim the provider may release; oidc-provider filters them by the granted scopes and claims. */
  claimsFor(account: DevAccount): AccountClaims {
    return {
      sub: account.sub,
      email: account.user.email,
      email_verified: account.user.emailVerified !== false,
      name: account.user.name,
      nickname: account.user.email.split('@')[0],
      picture: pictureFor(account.user),
    };
  }

  /** `findAccount` for the provider's configuration. */
  readonly findAccount: FindAccount = (_ctx, sub): Account | undefined => {
    const account = this.#bySub.get(sub);
    if (!account) return undefined;
    return {
      accountId: account.sub,
      claims: () => this.claimsFor(account),
    };
  };
}
