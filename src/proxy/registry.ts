import type { Edge, EdgeRequest } from '../edge/decide.js';
import { KeygateError } from '../errors.js';

/** How often open WebSockets are decided again: twice a second, so a login that ends closes its sockets within one. */
export const RECHECK_MS = 500;
/** Store outages tolerated (in rechecks) before the sockets it cannot vouch for are closed (fail closed). */
export const UNAVAILABLE_LIMIT = 10;

export interface OpenSocket {
  /** Closes both sides with a WebSocket close code and reason. */
  close(code: number, reason: string): void;
}

interface Group {
  request: EdgeRequest;
  sockets: Set<OpenSocket>;
  unavailable: number;
}

export interface SocketRegistry {
  /** Tracks an open socket under its credential's key; returns the function that forgets it (on close). */
  add(key: string, request: EdgeRequest, socket: OpenSocket): () => void;
  readonly size: number;
  /** Runs one recheck now (the timer calls it; tests may too). */
  sweep(): Promise<void>;
  /** Stops the timer and closes every socket (server shutdown). */
  close(): void;
}

/**
 * The open WebSockets of this instance, grouped by credential (one session, or one bearer token), each group decided
 * again every RECHECK_MS by the same edge decision that let it in: a logout (here, on another instance through the
 * shared Redis store, or at the provider through back-channel logout), a revoked token or an expired one closes the
 * group's sockets with 4401; a policy that no longer admits the user with 4403. One check per credential, not per socket.
 */
export function createSocketRegistry(edge: Edge, onError: (error: unknown) => void): SocketRegistry {
  const groups = new Map<string, Group>();
  let running = false;
  let count = 0;

  function closeGroup(key: string, group: Group, code: number, reason: string): void {
    groups.delete(key);
    for (const socket of group.sockets) socket.close(code, reason);
  }

  async function sweep(): Promise<void> {
    if (running) return;
    running = true;
    try {
      await Promise.all([...groups].map(async ([key, group]) => {
        let decision;
        try {
          decision = await edge.decide(group.request);
        } catch (error) {
          onError(error);
          decision = undefined;
        }
        if (decision === undefined || (decision instanceof KeygateError && decision.status >= 500)) {
          if (++group.unavailable >= UNAVAILABLE_LIMIT) closeGroup(key, group, 1011, 'login cannot be checked');
          return;
        }
        group.unavailable = 0;
        if (!(decision instanceof KeygateError)) return;
        if (decision.status === 403) closeGroup(key, group, 4403, 'access refused');
        else closeGroup(key, group, 4401, 'login ended');
      }));
    } finally {
      running = false;
    }
  }

  const timer = setInterval(() => void sweep(), RECHECK_MS);
  timer.unref();

  return {
    add(key, request, socket) {
      let group = groups.get(key);
      if (group === undefined) {
        group = { request, sockets: new Set(), unavailable: 0 };
        groups.set(key, group);
      }
      group.sockets.add(socket);
      count++;
      const owner = group;
      let forgotten = false;
      return () => {
        if (forgotten) return;
        forgotten = true;
        count--;
        owner.sockets.delete(socket);
        if (owner.sockets.size === 0 && groups.get(key) === owner) groups.delete(key);
      };
    },
    get size() {
      return count;
    },
    sweep,
    close() {
      clearInterval(timer);
      for (const [key, group] of [...groups]) closeGroup(key, group, 1001, 'server shutting down');
    },
  };
}
