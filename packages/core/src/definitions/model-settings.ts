import { z } from 'zod';
import { DEFAULT_MODEL_MAX_RETRIES, DEFAULT_MODEL_TIMEOUT_MS } from '../constants.js';

/** The model used when neither the agent nor the network names one, and `HANDOFF_MODEL` is not set. */
export const DEFAULT_MODEL_NAME = 'gpt-4.1-mini';

/** The model of agents whose definition (and network) names none: `HANDOFF_MODEL` when set, else {@link DEFAULT_MODEL_NAME}. Read when the network is defined. */
export function defaultModelName(): string {
  const fromEnv = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['HANDOFF_MODEL'];
  return fromEnv && fromEnv.trim() !== '' ? fromEnv.trim() : DEFAULT_MODEL_NAME;
}

/**
 * How an agent reaches its model: any OpenAI-compatible chat.completions endpoint. Where `baseURL`
 * or `apiKey` is absent, the openai client's own `OPENAI_BASE_URL` / `OPENAI_API_KEY` apply.
 */
export const ModelSettings = z.object({
  /** Model name sent to the endpoint. */
  name: z.string().min(1).optional().meta({ description: 'Model name sent to the endpoint; absent in the agent and the network: `HANDOFF_MODEL` when set.', default: DEFAULT_MODEL_NAME }),
  /** Endpoint base URL, e.g. `http://localhost:11434/v1`. */
  baseURL: z.url().optional().describe('Endpoint base URL, e.g. `http://localhost:11434/v1`.'),
  /** API key for the endpoint. */
  apiKey: z.string().optional().describe('API key for the endpoint.'),
  /** Retries on 408/409/429/5xx and connection errors, with exponential backoff and jitter. */
  maxRetries: z.number().int().min(0).max(10).optional().meta({ description: 'Retries on 408/409/429/5xx and connection errors, with exponential backoff and jitter.', default: DEFAULT_MODEL_MAX_RETRIES }),
  /** Timeout of one request in ms. */
  timeoutMs: z.number().int().min(1).max(3_600_000).optional().meta({ description: 'Timeout of one request in ms.', default: DEFAULT_MODEL_TIMEOUT_MS }),
  temperature: z.number().min(0).max(2).optional().describe('Sampling temperature sent to the endpoint (its default when absent).'),
  maxTokens: z.number().int().min(1).optional().describe('Most completion tokens of one model call (the endpoint\'s default when absent).'),
});
/** How an agent reaches its model. */
export type ModelSettings = z.infer<typeof ModelSettings>;

/** Model settings with every default applied. */
export interface ResolvedModelSettings {
  readonly name: string;
  readonly baseURL: string | undefined;
  readonly apiKey: string | undefined;
  readonly maxRetries: number;
  readonly timeoutMs: number;
  readonly temperature: number | undefined;
  readonly maxTokens: number | undefined;
}

/** Merges agent settings over network settings over defaults. */
export function resolveModelSettings(network: ModelSettings | undefined, agent: ModelSettings | undefined): ResolvedModelSettings {
  const merged = { ...network, ...agent };
  return Object.freeze({
    name: merged.name ?? defaultModelName(),
    baseURL: merged.baseURL,
    apiKey: merged.apiKey,
    maxRetries: merged.maxRetries ?? DEFAULT_MODEL_MAX_RETRIES,
    timeoutMs: merged.timeoutMs ?? DEFAULT_MODEL_TIMEOUT_MS,
    temperature: merged.temperature,
    maxTokens: merged.maxTokens,
  });
}
