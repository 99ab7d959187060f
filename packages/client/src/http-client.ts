import { createParser } from 'eventsource-parser';
import {
  ConversationResult,
  ConversationView,
  TranscriptPage,
  TranscriptQuery,
  ErrorCode,
  ErrorJson,
  EventId,
  errorFromJson,
  GatewayUnreachableError,
  HandoffError,
  redactUrlCredentials,
  RuntimeEvent,
  TimeoutError,
  TERMINAL_EVENT_TYPES,
  parseBoundary,
  validateContext,
  type Message,
  type NetworkDefinition,
  type StoredEvent,
} from '@handoff/core';
import type { ApprovalOptions, CommandOptions, ConversationHandle, EventsOptions, HandoffClient, ResultOptions, SendOptions } from './handle.js';
import { StartRequest as StartRequestSchema } from './start-request.js';
import type { TypedStartRequest } from './start-request.js';

/** Options of {@link createHttpClient}. */
export interface HttpClientOptions<N extends NetworkDefinition = NetworkDefinition> {
  /** The gateway's base URL, e.g. `http://localhost:8080`. */
  baseUrl: string;
  /** A bearer token the gateway accepts. */
  apiKey?: string;
  /** The fetch to use. @defaultValue the global fetch */
  fetch?: typeof fetch;
  /**
   * The network (its module's default export): types `start` (agent names, context) and checks the
   * context against its schema before sending (the gateway checks it too, INVALID_CONTEXT either
   * way). `createHttpClient<typeof network>({ … })` types without importing it.
   */
  network?: N;
}

/** Calls the gateway: JSON in and out, errors rebuilt as their typed class from the `{ error: { code, message, retryable, details } }` body. */
class GatewayHttp {
  constructor(private readonly options: HttpClientOptions<NetworkDefinition>) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}), ...extra };
  }

  url(path: string): string {
    return `${this.options.baseUrl.replace(/\/$/, '')}${path}`;
  }

  async raw(path: string, init: RequestInit = {}): Promise<Response> {
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(this.url(path), { ...init, headers: this.headers((init.headers as Record<string, string>) ?? {}) });
    } catch (error) {
      // Our own abort (a timeout, the end of an event stream) is not the gateway's absence.
      if (init.signal?.aborted) throw error;
      throw new GatewayUnreachableError(redactUrlCredentials(this.options.baseUrl), error);
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  async json<T>(path: string, init: RequestInit = {}, body?: unknown): Promise<T> {
    const response = await this.raw(path, {
      ...init,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return (await response.json()) as T;
  }
}

async function errorOf(response: Response): Promise<HandoffError> {
  const text = await response.text();
  try {
    // A body without `retryable` (an older gateway's) is still the gateway's typed error (not retryable unless it says so).
    const body = (JSON.parse(text) as { error?: Record<string, unknown> }).error;
    const error = ErrorJson.parse(body && typeof body === 'object' ? { retryable: false, ...body } : body);
    return errorFromJson(error);
  } catch {
    return new HandoffError(ErrorCode.INTERNAL, `The gateway answered HTTP ${response.status}: ${text.slice(0, 300)}`, { details: { status: response.status } });
  }
}

/** A {@link ConversationHandle} over the gateway's HTTP API. */
export class HttpConversationHandle implements ConversationHandle {
  private afterVersion: number | undefined;

  constructor(
    readonly id: string,
    private readonly http: GatewayHttp,
  ) {}

  async status(): Promise<ConversationView> {
    return ConversationView.parse(await this.http.json(`/v1/conversations/${encodeURIComponent(this.id)}`));
  }

  async messages(query: TranscriptQuery = {}): Promise<TranscriptPage> {
    const page = parseBoundary(TranscriptQuery, query, 'Transcript query');
    const params = new URLSearchParams({ from: String(page.from), limit: String(page.limit) });
    return TranscriptPage.parse(await this.http.json(`/v1/conversations/${encodeURIComponent(this.id)}/messages?${params}`));
  }

  async result(options: ResultOptions = {}): Promise<ConversationResult> {
    const timeoutMs = options.timeoutMs ?? 300_000;
    const deadline = Date.now() + timeoutMs;
    const afterVersion = options.afterVersion ?? this.afterVersion;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new TimeoutError(`Conversation ${this.id}`, timeoutMs);
      const query = new URLSearchParams({ waitMs: String(Math.min(remaining, 25_000)), ...(afterVersion === undefined ? {} : { afterVersion: String(afterVersion) }) });
      try {
        return ConversationResult.parse(await this.http.json(`/v1/conversations/${encodeURIComponent(this.id)}/result?${query}`));
      } catch (error) {
        // The server's wait ran out before ours: ask again.
        if (!(error instanceof HandoffError) || error.code !== ErrorCode.TIMEOUT) throw error;
      }
    }
  }

  async *events(options: EventsOptions = {}): AsyncGenerator<StoredEvent, void, undefined> {
    // Refused here as the gateway (and the Redis client) would: a bad id never makes a request.
    const after = options.after === undefined ? undefined : parseBoundary(EventId, options.after, 'The event id to resume after (after)');
    const controller = new AbortController();
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(), options.timeoutMs);
    try {
      const response = await this.http.raw(`/v1/conversations/${encodeURIComponent(this.id)}/events`, {
        headers: { accept: 'text/event-stream', ...(after ? { 'last-event-id': after } : {}) },
        signal: controller.signal,
      });
      if (!response.body) return;
      const queue: StoredEvent[] = [];
      const parser = createParser({
        onEvent: (message) => {
          if (!message.id || !message.data) return;
          queue.push({ ...RuntimeEvent.parse(JSON.parse(message.data)), id: message.id });
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        while (queue.length > 0) {
          const event = queue.shift()!;
          yield event;
          if (TERMINAL_EVENT_TYPES.has(event.type)) return;
        }
      }
    } catch (error) {
      if (controller.signal.aborted && options.timeoutMs !== undefined) throw new TimeoutError(`Events of conversation ${this.id}`, options.timeoutMs);
      throw error;
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }

  async send(message: string | Message, options: SendOptions = {}): Promise<void> {
    const accepted = await this.http.json<{ afterVersion: number }>(`/v1/conversations/${encodeURIComponent(this.id)}/messages`, { method: 'POST' }, { message, ...options });
    this.afterVersion = accepted.afterVersion;
  }

  async approve(options: ApprovalOptions = {}): Promise<void> {
    await this.decide(true, options);
  }

  async reject(options: ApprovalOptions = {}): Promise<void> {
    await this.decide(false, options);
  }

  private async decide(approved: boolean, options: ApprovalOptions): Promise<void> {
    const accepted = await this.http.json<{ afterVersion: number }>(`/v1/conversations/${encodeURIComponent(this.id)}/approvals`, { method: 'POST' }, { approved, ...options });
    this.afterVersion = accepted.afterVersion;
  }

  async cancel(reason?: string, options: CommandOptions = {}): Promise<void> {
    await this.http.json(`/v1/conversations/${encodeURIComponent(this.id)}/cancel`, { method: 'POST' }, { ...(reason === undefined ? {} : { reason }), ...options });
  }
}

/**
 * A client over the gateway's HTTP API, for processes that do not reach the Redis: the same
 * {@link HandoffClient} as {@link createClient}.
 *
 * @example
 * ```ts
 * const client = createHttpClient({ baseUrl: 'http://gateway:8080', apiKey: process.env.HANDOFF_API_KEY });
 * const conversation = await client.start({ agent: 'CustomerService', input: 'My invoice is wrong' });
 * for await (const event of conversation.events()) console.log(event.type);
 * ```
 */
export function createHttpClient<N extends NetworkDefinition = NetworkDefinition>(options: HttpClientOptions<N>): HandoffClient<N> {
  const http = new GatewayHttp(options);
  const handle = (conversationId: string) => new HttpConversationHandle(conversationId, http);
  return {
    async start(request: TypedStartRequest<N>) {
      // Checked here as the gateway checks it (the same errors), and before JSON.stringify meets a value nested too deep for it.
      const checked = parseBoundary(StartRequestSchema, request, 'Start request');
      // Refused early; the gateway checks it again and its coordinator applies the schema's defaults.
      if (options.network !== undefined) validateContext(options.network, checked.context);
      const started = await http.json<{ conversationId: string }>('/v1/conversations', { method: 'POST' }, checked);
      return handle(started.conversationId);
    },
    conversation: handle,
    getHandle: handle,
    async cancel(conversationId, reason, commandOptions = {}) {
      await handle(conversationId).cancel(reason, commandOptions);
    },
    async close() {},
  };
}
