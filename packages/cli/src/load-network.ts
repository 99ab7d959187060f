import { existsSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DefinitionError, isNetworkDefinition, type NetworkDefinition } from '@handoff/core';
import { moduleSyntaxError } from './module-syntax-error.js';

let tsxRegistered = false;

/**
 * Loads a network module: a `.js`/`.mjs` file, or a `.ts`/`.mts` file (compiled on the fly with
 * tsx), whose default export is a network made with `defineNetwork`. With `fresh`, the module and
 * the files it imports are loaded again, not taken from the module cache (`handoff dev` reloads).
 * @throws {@link DefinitionError} naming the module when it is missing, is a directory (naming the files to give instead), does not parse (with the
 * line of the syntax error), or exports no network.
 */
export async function loadNetwork(modulePath: string, options: { fresh?: boolean } = {}): Promise<NetworkDefinition> {
  const absolute = resolve(process.cwd(), modulePath);
  if (!existsSync(absolute)) throw new DefinitionError(`--network: no file at ${absolute}`);
  if (statSync(absolute).isDirectory()) throw new DefinitionError(directoryMessage(modulePath, absolute));
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

/** The files a directory given as --network most likely meant. */
const MODULE_NAMES = ['network.ts', 'network.mts', 'network.js', 'network.mjs', 'index.ts', 'index.mts', 'index.js', 'index.mjs'];

/** What to say when --network names a directory: which module files it has, or what to give. */
function directoryMessage(modulePath: string, absolute: string): string {
  const found = MODULE_NAMES.filter((name) => existsSync(join(absolute, name))).map((name) => relative(process.cwd(), join(absolute, name)) || name);
  const suggestion = found.length > 0 ? `Give the module file: --network ${found.map((f) => (f.startsWith('.') || f.startsWith('/') ? f : `./${f}`)).join(' or --network ')}` : 'Give the file of a module whose default export is the network, e.g. --network ./network.ts';
  return `--network: ${modulePath} is a directory, not a module. ${suggestion}.`;
}
