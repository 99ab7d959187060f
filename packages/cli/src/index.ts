/**
 * `@handoff/cli`: the `handoff` command (worker, gateway) and its helpers.
 * @module
 */
export { loadNetwork } from './load-network.js';
export { parseFlags, RunFlags } from './options.js';
export { createLogger } from './logger.js';
