import type { ServerConfig } from '../config/types.js';
import { issuerClient } from '../keygate/issuer.js';
import { probeDiscovery } from '../oidc/probe.js';

/**
 * `--check-config` tries the provider too: a configuration that names an unreachable provider is not valid for this
 * machine. Development mode has nothing to try (its provider starts with Keygate). Undefined when discovery works.
 */
export async function checkProvider(config: ServerConfig): Promise<string | undefined> {
  if (config.mode === 'dev') return undefined;
  const failure = await probeDiscovery(issuerClient({ issuer: config.issuerUrl, timeoutMs: config.providerTimeoutMs, jwksCooldownMs: 30_000, fetch: undefined }));
  return failure === undefined ? undefined : `--check-config: ${failure}`;
}
