import type { NetworkDefinition } from '@handoff/core';

/** OpenAI's own API: the base URL the openai client uses when nothing else is set. */
const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** Agents that would call OpenAI's API without a key, grouped by base URL. */
export interface MissingApiKey {
  readonly baseURL: string;
  readonly agents: readonly string[];
}

/**
 * The served agents whose model calls would go to OpenAI's API (`api.openai.com`) with no API key:
 * neither the agent's (or network's) `model.apiKey` nor `OPENAI_API_KEY`. OpenAI refuses them (401);
 * a worker warns at start, naming the variable. Other endpoints often need no key and are left alone.
 */
export function agentsMissingApiKey(network: NetworkDefinition, agents: readonly string[], env: NodeJS.ProcessEnv = process.env): MissingApiKey[] {
  const byUrl = new Map<string, string[]>();
  for (const agent of agents) {
    const settings = network.agent(agent).resolvedModel;
    if (settings.apiKey || env.OPENAI_API_KEY) continue;
    const baseURL = settings.baseURL ?? env.OPENAI_BASE_URL ?? OPENAI_DEFAULT_BASE_URL;
    let host: string;
    try {
      host = new URL(baseURL).hostname;
    } catch {
      continue;
    }
    if (host !== 'api.openai.com') continue;
    byUrl.set(baseURL, [...(byUrl.get(baseURL) ?? []), agent]);
  }
  return [...byUrl].map(([baseURL, names]) => ({ baseURL, agents: names }));
}
