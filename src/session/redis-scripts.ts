/**
 * The Lua scripts of the Redis store: every multi-key change runs as one script, so it is atomic, and publishes its
 * invalidation in the same step. Each script takes the key prefix as ARGV[1] and builds the other key names from it
 * (all of Keygate's keys share one hash slot in Cluster mode, see redis-connect.ts). KEYS[1] is the main key, which
 * routes the script to its node. Times are milliseconds of the store's clock, passed in as ARGV.
 */
import type { RedisClient } from './redis-connect.js';

/** Shared helpers, prepended to the scripts that need them. */
const HELPERS = `
local function revoke(p, tk, exp, now)
  if exp <= now then return end
  local key = p .. 'revoked:' .. tk
  local current = tonumber(redis.call('GET', key))
  if current == nil or current < exp then
    redis.call('SET', key, string.format('%d', exp), 'PX', string.format('%d', exp - now))
    redis.call('ZADD', p .. 'revocations', string.format('%d', exp), tk)
  end
end
local function index(key, id, ttl)
  redis.call('SADD', key, id)
  local left = redis.call('PTTL', key)
  if left < ttl then redis.call('PEXPIRE', key, string.format('%d', ttl)) end
end
local function unindex(p, s, id, pid)
  redis.call('SREM', p .. 'sub:' .. s.sub, id)
  if type(s.providerSid) == 'string' then redis.call('SREM', p .. 'psid:' .. s.providerSid, id) end
  redis.call('ZREM', p .. 'public', pid)
  redis.call('ZREM', p .. 'subject:' .. s.sub, pid)
  redis.call('DEL', p .. 'pub:' .. pid)
end
local function publish(p, sub, id, pid, exp, ttl)
  local score = string.format('%d', exp)
  redis.call('SET', p .. 'pub:' .. pid, id, 'PX', string.format('%d', ttl))
  redis.call('ZADD', p .. 'public', score, pid)
  local key = p .. 'subject:' .. sub
  redis.call('ZADD', key, score, pid)
  local left = redis.call('PTTL', key)
  if left < ttl then redis.call('PEXPIRE', key, string.format('%d', ttl)) end
end
local function tidy(p, now)
  redis.call('ZREMRANGEBYSCORE', p .. 'sessions', '-inf', string.format('%d', now))
  redis.call('ZREMRANGEBYSCORE', p .. 'revocations', '-inf', string.format('%d', now))
  redis.call('ZREMRANGEBYSCORE', p .. 'public', '-inf', string.format('%d', now))
end
`;

/**
 * create: KEYS[1] session:<id>; ARGV prefix, id, json, tokenKey, sub, providerSid or '', expiresAt, now, public id.
 * Replaces a session with the same id (its old token no longer finds it).
 */
export const CREATE = `${HELPERS}
local p, id = ARGV[1], ARGV[2]
local exp, now = tonumber(ARGV[7]), tonumber(ARGV[8])
if exp <= now then return 0 end
local ttl = exp - now
local old = redis.call('GET', KEYS[1])
if old then
  local o = cjson.decode(old)
  if redis.call('GET', p .. 'token:' .. o.tokenKey) == id then redis.call('DEL', p .. 'token:' .. o.tokenKey) end
  unindex(p, o, id, ARGV[9])
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', string.format('%d', ttl))
redis.call('SET', p .. 'token:' .. ARGV[4], id, 'PX', string.format('%d', ttl))
redis.call('ZADD', p .. 'sessions', ARGV[7], id)
index(p .. 'sub:' .. ARGV[5], id, ttl)
publish(p, ARGV[5], id, ARGV[9], exp, ttl)
if ARGV[6] ~= '' then index(p .. 'psid:' .. ARGV[6], id, ttl) end
tidy(p, now)
return 1
`;

/** get by token: KEYS[1] token:<tokenKey>; ARGV prefix. The session's JSON, or nil. */
export const BY_TOKEN = `
local id = redis.call('GET', KEYS[1])
if not id then return false end
return redis.call('GET', ARGV[1] .. 'session:' .. id)
`;

/**
 * delete: KEYS[1] session:<id>; ARGV prefix, id, now, channel, public id. Ends the session, revokes its token until it expires,
 * publishes the token key. {1 when the session was alive else 0, its token key}, or {0} when there was none.
 */
export const DELETE = `${HELPERS}
local p, id, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local raw = redis.call('GET', KEYS[1])
if not raw then return {0} end
local s = cjson.decode(raw)
redis.call('DEL', KEYS[1])
redis.call('ZREM', p .. 'sessions', id)
if redis.call('GET', p .. 'token:' .. s.tokenKey) == id then redis.call('DEL', p .. 'token:' .. s.tokenKey) end
unindex(p, s, id, ARGV[5])
revoke(p, s.tokenKey, s.expiresAt, now)
redis.call('PUBLISH', ARGV[4], s.tokenKey)
if s.expiresAt > now then return {1, s.tokenKey} end
return {0, s.tokenKey}
`;

/** revoke: KEYS[1] revoked:<tokenKey>; ARGV prefix, tokenKey, expiresAt, now, channel. */
export const REVOKE = `${HELPERS}
local exp, now = tonumber(ARGV[3]), tonumber(ARGV[4])
if exp <= now then return 0 end
revoke(ARGV[1], ARGV[2], exp, now)
redis.call('PUBLISH', ARGV[5], ARGV[2])
return 1
`;

/**
 * rotate: KEYS[1] session:<id>; ARGV prefix, id, now, channel, apiToken (sealed), tokenKey, expiresAt,
 * idToken (sealed or ''), refreshToken (sealed or ''), public id. {the updated session's JSON, the old token key}, or nil when
 * the session is gone.
 */
export const ROTATE = `${HELPERS}
local p, id, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local exp = tonumber(ARGV[7])
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local s = cjson.decode(raw)
if s.expiresAt <= now or exp <= now then return false end
local oldKey, oldExp = s.tokenKey, s.expiresAt
s.apiToken = ARGV[5]
s.tokenKey = ARGV[6]
s.expiresAt = exp
if ARGV[8] ~= '' then s.idToken = ARGV[8] else s.idToken = nil end
if ARGV[9] ~= '' then s.refreshToken = ARGV[9] else s.refreshToken = nil end
local json = cjson.encode(s)
local ttl = exp - now
redis.call('SET', KEYS[1], json, 'PX', string.format('%d', ttl))
if redis.call('GET', p .. 'token:' .. oldKey) == id then redis.call('DEL', p .. 'token:' .. oldKey) end
redis.call('SET', p .. 'token:' .. s.tokenKey, id, 'PX', string.format('%d', ttl))
redis.call('ZADD', p .. 'sessions', ARGV[7], id)
index(p .. 'sub:' .. s.sub, id, ttl)
if type(s.providerSid) == 'string' then index(p .. 'psid:' .. s.providerSid, id, ttl) end
publish(p, s.sub, id, ARGV[10], exp, ttl)
if oldKey ~= s.tokenKey then revoke(p, oldKey, oldExp, now) end
redis.call('PUBLISH', ARGV[4], oldKey)
return {json, oldKey}
`;

/** sessions of an index: KEYS[1] sub:<sub> or psid:<sid>; ARGV prefix. Drops ids whose session is gone; returns the JSONs. */
export const LIST = `
local found = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local raw = redis.call('GET', ARGV[1] .. 'session:' .. id)
  if raw then table.insert(found, raw) else redis.call('SREM', KEYS[1], id) end
end
return found
`;

/**
 * touch: KEYS[1] session:<id>; ARGV at, now. Sets lastUsedAt when it moves forward, keeping the expiry; no
 * invalidation is published (no answer about a token depends on it). 1 when written.
 */
export const TOUCH = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local s = cjson.decode(raw)
local at = tonumber(ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if s.expiresAt <= tonumber(ARGV[2]) or ttl <= 0 then return 0 end
if type(s.lastUsedAt) == 'number' and s.lastUsedAt >= at then return 0 end
s.lastUsedAt = at
redis.call('SET', KEYS[1], cjson.encode(s), 'PX', ttl)
return 1
`;

/**
 * page: KEYS[1] public or subject:<sub> (public ids scored by expiry); ARGV prefix, now, limit, and the cursor's
 * expiry and public id or '' ''. {1 when more may follow else 0, then score, public id, JSON per session}.
 *
 * Where the page starts is found by a probe: a member just after the cursor's position (the public id followed by a
 * NUL byte, which no public id contains) is added, ranked and removed within the script, so the position holds
 * whether or not the cursor's own session still exists, in O(log N). Entries whose session is gone are dropped on
 * the way; expired ones first of all.
 */
export const PAGE = `
local p, now, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local start = 0
if ARGV[4] ~= '' then
  local probe = ARGV[5] .. '\0'
  redis.call('ZADD', KEYS[1], ARGV[4], probe)
  start = redis.call('ZRANK', KEYS[1], probe)
  redis.call('ZREM', KEYS[1], probe)
end
local out = {0}
local taken = 0
while taken < limit do
  local batch = redis.call('ZRANGE', KEYS[1], start, start + limit - taken - 1, 'WITHSCORES')
  if #batch == 0 then break end
  for i = 1, #batch, 2 do
    local pid = batch[i]
    local id = redis.call('GET', p .. 'pub:' .. pid)
    local raw = id and redis.call('GET', p .. 'session:' .. id)
    if raw then
      table.insert(out, batch[i + 1])
      table.insert(out, pid)
      table.insert(out, raw)
      taken = taken + 1
      start = start + 1
    else
      redis.call('ZREM', KEYS[1], pid)
    end
  end
end
if redis.call('ZCARD', KEYS[1]) > start then out[1] = 1 end
return out
`;

/** stats: KEYS[1] sessions; ARGV prefix, now. {live sessions, live revocations}. */
export const STATS = `
local now = ARGV[2]
return { redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf'), redis.call('ZCOUNT', ARGV[1] .. 'revocations', '(' .. now, '+inf') }
`;

/** unlock: KEYS[1] lock:<name>; ARGV holder token. Deletes the lock only if this holder still owns it. */
export const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * heartbeat echo: KEYS[1] epoch (only to route the script to the node that owns Keygate's hash slot); ARGV channel,
 * message. Published from the node that publishes every invalidation, so the echo comes back after all of them.
 */
export const ECHO = `
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
`;

/**
 * hit: KEYS[1] rl:<limit>:{<client>}; ARGV window in ms. One fixed window per key, counted atomically: INCR, and
 * PEXPIRE when the window starts (or when a key lost its expiry), in one script, so no instance can leave a
 * counter without an end. Returns {count, ms until the window ends}. One key per call: Cluster-safe anywhere.
 */
export const HIT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

/** The scripts as commands of a client (see `withScripts`). */
export interface Scripts {
  kgCreate(key: string, ...args: string[]): Promise<number>;
  kgByToken(key: string, prefix: string): Promise<string | null>;
  kgDelete(key: string, ...args: string[]): Promise<[number, string?]>;
  kgRevoke(key: string, ...args: string[]): Promise<number>;
  kgRotate(key: string, ...args: string[]): Promise<[string, string] | null>;
  kgList(key: string, prefix: string): Promise<string[]>;
  kgTouch(key: string, at: string, now: string): Promise<number>;
  kgPage(key: string, ...args: string[]): Promise<[number, ...string[]]>;
  kgStats(key: string, prefix: string, now: string): Promise<[number, number]>;
  kgUnlock(key: string, token: string): Promise<number>;
  kgEcho(key: string, channel: string, message: string): Promise<number>;
  kgHit(key: string, windowMs: string): Promise<[number, number]>;
}

export type ScriptedClient = RedisClient & Scripts;

/** Defines every script on the client (ioredis sends EVALSHA, and the script itself when Redis does not know it). */
export function withScripts(client: RedisClient): ScriptedClient {
  const scripts = { kgCreate: CREATE, kgByToken: BY_TOKEN, kgDelete: DELETE, kgRevoke: REVOKE, kgRotate: ROTATE, kgList: LIST, kgTouch: TOUCH, kgPage: PAGE, kgStats: STATS, kgUnlock: UNLOCK, kgEcho: ECHO, kgHit: HIT };
  for (const [name, lua] of Object.entries(scripts)) client.defineCommand(name, { numberOfKeys: 1, lua });
  return client as ScriptedClient;
}
