export { loadConfig, loadConfigFromProcess, ConfigError, isLoopbackHost, parseAllowlist, type Env } from './load.js';
export type { KeygateConfig, Allowlist, DevUser } from './types.js';
