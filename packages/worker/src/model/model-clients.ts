import OpenAI from 'openai';
import type { ResolvedModelSettings } from '@handoff/core';

/**
 * One `openai` client per distinct endpoint (base URL, key, retries, timeout), shared by every
 * agent of a worker process that uses it. Where the settings leave base URL or key unset, the
 * client reads `OPENAI_BASE_URL` / `OPENAI_API_KEY` itself.
 */
export class ModelClients {
  private readonly clients = new Map<string, OpenAI>();
  private readonly bySettings = new WeakMap<ResolvedModelSettings, OpenAI>();

  /** @param workerId - sent as the `x-handoff-worker` header, so endpoint logs show which worker called. */
  constructor(private readonly workerId?: string) {}

  /** The client for an agent's resolved model settings. */
  for(settings: ResolvedModelSettings): OpenAI {
    const known = this.bySettings.get(settings);
    if (known) return known;
    const key = JSON.stringify([settings.baseURL, settings.apiKey, settings.maxRetries, settings.timeoutMs]);
    let client = this.clients.get(key);
    if (!client) {
      client = new OpenAI({
        ...(settings.baseURL === undefined ? {} : { baseURL: settings.baseURL }),
        // A local OpenAI-compatible server often needs no key; the client insists on one.
        apiKey: settings.apiKey ?? process.env.OPENAI_API_KEY ?? 'unset',
        maxRetries: settings.maxRetries,
        timeout: settings.timeoutMs,
        ...(this.workerId ? { defaultHeaders: { 'x-handoff-worker': this.workerId } } : {}),
      });
      this.clients.set(key, client);
    }
    this.bySettings.set(settings, client);
    return client;
  }
}
