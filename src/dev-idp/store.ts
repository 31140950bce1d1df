import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

/** Models whose entries belong to a grant (revoked together with it). */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

const modelOf = (key: string): string => key.slice(0, key.indexOf(':'));

interface Entry {
  payload: AdapterPayload;
  /** Epoch milliseconds, or Infinity. */
  expiresAt: number;
}

/**
 * A small in-memory store for oidc-provider's models, one per IdP instance (no process-wide state), bounded in size
 * (the oldest entries go first), with expiry checked on read. Indexes: session uid, user code, and the members of
 * each grant (so that revoking a grant revokes its tokens).
 */
export class MemoryStore {
  readonly #entries = new Map<string, Entry>();
  readonly #byUid = new Map<string, string>();
  readonly #byUserCode = new Map<string, string>();
  readonly #grants = new Map<string, Set<string>>();

  constructor(private readonly maxEntries = 10_000) {}

  #get(key: string): AdapterPayload | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#delete(key);
      return undefined;
    }
    return entry.payload;
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    const { uid, userCode, grantId } = entry.payload;
    if (uid && this.#byUid.get(uid) === key) this.#byUid.delete(uid);
    if (userCode && this.#byUserCode.get(userCode) === key) this.#byUserCode.delete(userCode);
    if (grantId) {
      const members = this.#grants.get(grantId);
      members?.delete(key);
      if (members?.size === 0) this.#grants.delete(grantId);
    }
  }

  #set(key: string, payload: AdapterPayload, expiresIn: number | undefined): void {
    this.#delete(key);
    while (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#delete(oldest);
    }
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    this.#entries.set(key, { payload, expiresAt });
    const model = modelOf(key);
    if (payload.uid && model === 'Session') this.#byUid.set(payload.uid, key);
    if (payload.userCode) this.#byUserCode.set(payload.userCode, key);
    if (payload.grantId && GRANTABLE.has(model)) {
      const members = this.#grants.get(payload.grantId) ?? new Set<string>();
      members.add(key);
      this.#grants.set(payload.grantId, members);
    }
  }

  /** oidc-provider's `adapter` option. */
  readonly factory: AdapterFactory = (model: string): Adapter => {
    const keyFor = (id: string): string => `${model}:${id}`;
    return {
      upsert: async (id, payload, expiresIn) => this.#set(keyFor(id), payload, expiresIn),
      find: async (id) => this.#get(keyFor(id)),
      findByUid: async (uid) => {
        const key = this.#byUid.get(uid);
        return key && key.startsWith(`${model}:`) ? this.#get(key) : undefined;
      },
      findByUserCode: async (userCode) => {
        const key = this.#byUserCode.get(userCode);
        return key && key.startsWith(`${model}:`) ? this.#get(key) : undefined;
      },
      consume: async (id) => {
        const payload = this.#get(keyFor(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => this.#delete(keyFor(id)),
      revokeByGrantId: async (grantId) => {
        for (const key of [...(this.#grants.get(grantId) ?? [])]) {
          if (key.startsWith(`${model}:`)) this.#delete(key);
        }
      },
    };
  };
}
