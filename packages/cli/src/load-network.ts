import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DefinitionError, isNetworkDefinition, type NetworkDefinition } from '@handoff/core';
import { moduleSyntaxError } from './module-syntax-error.js';

let tsxRegistered = false;

/**
 * Loads a network module: a `.js`/`.mjs` file, or a `.ts`/`.mts` file (compiled on the fly with
 * tsx), whose default export is a network made with `defineNetwork`. With `fresh`, the module and
 * the files it imports are loaded again, not taken from the module cache (`handoff dev` reloads).
 * @throws {@link DefinitionError} naming the module when it is missing, does not parse (with the
 * line of the syntax error), or exports no network.
 */
export async function loadNetwork(modulePath: string, options: { fresh?: boolean } = {}): Promise<NetworkDefinition> {
  const absolute = resolve(process.cwd(), modulePath);
  if (!existsSync(absolute)) throw new DefinitionError(`--network: no file at ${absolute}`);
  if (/\.[mc]?tsx?$/.test(absolute) && !tsxRegistered && !options.fresh) {
    const { register } = await import('tsx/esm/api');
    register();
    tsxRegistered = true;
  }
  let module: { default?: unknown };
  try {
    // tsImport loads under a namespace of its own each time: the module and everything it imports are read again.
    module = options.fresh
      ? ((await (await import('tsx/esm/api')).tsImport(pathToFileURL(absolute).href, import.meta.url)) as { default?: unknown })
      : ((await import(pathToFileURL(absolute).href)) as { default?: unknown });
  } catch (error) {
    throw moduleSyntaxError(absolute, error) ?? error;
  }
  const network = module.default;
  if (!isNetworkDefinition(network)) {
    throw new DefinitionError(`--network: ${modulePath} must have a default export made with defineNetwork(...); found ${typeof network}.`);
  }
  return network;
}
