import type { EnvReader } from './env.js';
import type { ServerConfig } from './types.js';

/** `TRACK_LAST_USED` (default on): record when each session was last used, at most one store write a minute per session. */
export function parseSessions(r: EnvReader): Pick<ServerConfig, 'trackLastUsed'> {
  return { trackLastUsed: r.bool('TRACK_LAST_USED', true) };
}
