export { loadConfig, loadConfigFromProcess, ConfigError, type Env } from './load.js';
export { isLoopbackHost } from '../keygate/validate.js';
export { keygateOptionsFrom } from './options.js';
export type { ServerConfig, KeygateConfig, Allowlist, DevUser } from './types.js';
