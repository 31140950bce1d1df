import type { FastifyBaseLogger } from 'fastify';
import type { ServerConfig } from '../config/types.js';
import type { Keygate } from '../keygate/create.js';
import { discoveryUrl, probeDiscovery } from './probe.js';

/**
 * What start-up reports without refusing to start: the given warnings (e.g. scopes the development provider will
 * not grant), and, with a real provider, one discovery attempt in the background — a provider that cannot be reached
 * is logged with its URL and cause now, not at the first login. Start-up does not wait: the provider may come later.
 */
export function startupChecks(config: ServerConfig, keygate: Keygate, log: FastifyBaseLogger, warnings: readonly string[]): void {
  for (const warning of warnings) log.warn(warning);
  if (config.mode === 'dev') return;
  void probeDiscovery(keygate.issuer).then((failure) => {
    if (failure !== undefined) log.warn({ url: discoveryUrl(config.issuerUrl) }, `${failure} Keygate keeps running; logins fail until the provider answers.`);
  });
}
