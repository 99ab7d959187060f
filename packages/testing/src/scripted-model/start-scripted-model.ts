import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { settledUnlessAborted, sleepUnlessAborted, untilAborted } from './abortable-wait.js';
import { asChatCompletionRequest, InvalidChatRequestError } from './chat-request.js';
import { CompletionIds } from './completion-ids.js';
import { toCompletionObject } from './completion-object.js';
import { openAIErrorBody } from './error-body.js';
import { flattenHeaders, sendEventStream, sendJson, sendPacedEventStream } from './http-io.js';
import { lastUserText } from './matchers.js';
import { hrNow, type RecordedRequest } from './recorded-request.js';
import { RequestWaiters } from './request-waiters.js';
import { resolveReply } from './resolved-reply.js';
import { RuleBook } from './rule-book.js';
import type { ScriptRule } from './script-rule.js';
import type { ScriptedModel, ScriptedModelOptions } from './scripted-model.js';
import type { ScriptedReply } from './scripted-reply.js';
import { encodeSse, toStreamChunks } from './stream-chunks.js';

const ROUTE = '/v1/chat/completions';
/** Don't let a client retry an answer that comes from a broken script. */
const NO_RETRY = { 'x-should-retry': 'false' } as const;

/**
 * Starts a scripted OpenAI-compatible model server: a real HTTP server answering
 * `POST /v1/chat/completions` (streamed and not) from a list of rules.
 *
 * @example
 * ```ts
 * const model = await startScriptedModel({ rules: [{ reply: { content: 'hello' } }] });
 * const openai = new OpenAI({ baseURL: model.url, apiKey: 'test' });
 * // …
 * await model.close();
 * ```
 * @param opts - rules, address, chunk size and latency
 */
export async function startScriptedModel(opts: ScriptedModelOptions = {}): Promise<ScriptedModel> {
  const model = new ScriptedModelServer(opts);
  await model.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  return model;
}

/** The implementation behind {@link startScriptedModel}. */
class ScriptedModelServer implements ScriptedModel {
  readonly #server: Server;
  readonly #rules: RuleBook;
  readonly #ids = new CompletionIds();
  readonly #waiters = new RequestWaiters();
  readonly #closing = new AbortController();
  readonly #chunkSize: number;
  readonly #latencyMs: number;
  #requests: RecordedRequest[] = [];
  #unmatched: RecordedRequest[] = [];
  #url = '';
  #port = 0;

  constructor(opts: ScriptedModelOptions) {
    this.#rules = new RuleBook(opts.rules ?? []);
    this.#chunkSize = Math.max(1, Math.floor(opts.chunkSize ?? 8));
    this.#latencyMs = Math.max(0, opts.latencyMs ?? 0);
    this.#server = createServer({ keepAlive: true, noDelay: true }, (req, res) => this.#onRequest(req, res));
    this.#server.keepAliveTimeout = 30_000;
    setMaxListeners(0, this.#closing.signal); // one listener per held or delayed response
  }

  get url(): string {
    return this.#url;
  }

  get port(): number {
    return this.#port;
  }

  get requests(): readonly RecordedRequest[] {
    return this.#requests;
  }

  get unmatched(): readonly RecordedRequest[] {
    return this.#unmatched;
  }

  /** Starts listening. */
  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        const address = this.#server.address() as AddressInfo;
        this.#port = address.port;
        const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        this.#url = `http://${shownHost}:${address.port}/v1`;
        resolve();
      });
    });
  }

  addRule(rule: ScriptRule): void {
    this.#rules.append(rule);
  }

  prependRule(rule: ScriptRule): void {
    this.#rules.prepend(rule);
  }

  reset(): void {
    this.#rules.clear();
    this.clearRequests();
  }

  clearRequests(): void {
    this.#requests = [];
    this.#unmatched = [];
  }

  waitForRequests(n: number, timeoutMs = 5000): Promise<void> {
    return this.#waiters.wait(
      n,
      this.#requests.length,
      timeoutMs,
      () => `scripted model: waited ${timeoutMs} ms for ${n} request(s), got ${this.#requests.length}`,
    );
  }

  close(): Promise<void> {
    this.#closing.abort();
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?', 1)[0];
    if (req.method !== 'POST' || path !== ROUTE) {
      req.resume();
      sendJson(
        res,
        404,
        openAIErrorBody(404, `scripted model: unknown route ${req.method ?? '?'} ${req.url ?? ''}`, 'invalid_request_error', 'unknown_url'),
      );
      return;
    }
    const chunks: Buffer[] = [];
    req.on('error', () => {}); // a client that goes away mid-body: nothing to answer
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => this.#onBody(Buffer.concat(chunks).toString('utf8'), req, res));
  }

  #onBody(text: string, req: IncomingMessage, res: ServerResponse): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      sendJson(res, 400, openAIErrorBody(400, `scripted model: invalid JSON body: ${(err as Error).message}`), NO_RETRY);
      return;
    }
    let recorded: { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] };
    try {
      recorded = {
        index: this.#requests.length,
        body: asChatCompletionRequest(parsed),
        receivedAt: Date.now(),
        receivedAtHr: hrNow(),
        answeredAtHr: undefined,
        abortedAtHr: undefined,
        headers: flattenHeaders(req.headers),
      };
    } catch (err) {
      if (!(err instanceof InvalidChatRequestError)) throw err;
      sendJson(res, 400, openAIErrorBody(400, `scripted model: ${err.message}`), NO_RETRY);
      return;
    }
    res.once('finish', () => {
      recorded.answeredAtHr = hrNow();
    });
    res.once('close', () => {
      if (!res.writableFinished) recorded.abortedAtHr = hrNow();
    });
    this.#requests.push(recorded);
    this.#waiters.notify(this.#requests.length);

    let rule: ScriptRule | undefined;
    try {
      rule = this.#rules.take(recorded);
    } catch (err) {
      this.#fail(res, `scripted model: a rule's 'when' threw on request #${recorded.index}: ${describeError(err)}`);
      return;
    }
    if (!rule) {
      this.#unmatched.push(recorded);
      const last = lastUserText(recorded);
      const shown = last === undefined ? 'none' : `"${truncate(last, 200)}"`;
      this.#fail(res, `scripted model: no rule matched request #${recorded.index} (last user message: ${shown})`, 'no_rule_matched');
      return;
    }
    this.#answer(rule, recorded, res).catch((err: unknown) => {
      this.#fail(res, `scripted model: rule ${ruleLabel(rule)} failed on request #${recorded.index}: ${describeError(err)}`);
    });
  }

  async #answer(rule: ScriptRule, recorded: RecordedRequest, res: ServerResponse): Promise<void> {
    const reply: ScriptedReply = typeof rule.reply === 'function' ? await rule.reply(recorded) : rule.reply;
    const needsWait = this.#latencyMs > 0 || (reply.delayMs ?? 0) > 0 || reply.hold !== undefined || reply.hang === true;
    if (needsWait) {
      const gone = this.#goneSignal(res);
      const wait = this.#latencyMs + Math.max(0, reply.delayMs ?? 0);
      if (wait > 0 && !(await sleepUnlessAborted(wait, gone))) return;
      if (reply.hold && !(await settledUnlessAborted(reply.hold, gone))) return;
      if (reply.hang) {
        await untilAborted(gone);
        return;
      }
    }
    if (res.destroyed || this.#closing.signal.aborted) return;
    const requestId = this.#ids.request();
    if (reply.error) {
      const { status, message, type, code, headers } = reply.error;
      sendJson(res, status, openAIErrorBody(status, message ?? `scripted error ${status}`, type, code), {
        'x-request-id': requestId,
        ...headers,
      });
      return;
    }
    const resolved = resolveReply(reply, recorded.body, this.#ids);
    if (recorded.body.stream === true) {
      const includeUsage = recorded.body.stream_options?.include_usage === true;
      const chunks = toStreamChunks(resolved, { chunkSize: this.#chunkSize, includeUsage });
      if ((reply.chunkDelayMs ?? 0) > 0) {
        await sendPacedEventStream(res, chunks, reply.chunkDelayMs ?? 0, this.#goneSignal(res), { 'x-request-id': requestId });
      } else {
        sendEventStream(res, encodeSse(chunks), { 'x-request-id': requestId });
      }
    } else {
      sendJson(res, 200, toCompletionObject(resolved), { 'x-request-id': requestId });
    }
  }

  /** A signal that aborts when the response's connection closes or the server closes. */
  #goneSignal(res: ServerResponse): AbortSignal {
    const gone = new AbortController();
    const abort = (): void => gone.abort();
    res.once('close', abort);
    if (this.#closing.signal.aborted) gone.abort();
    else this.#closing.signal.addEventListener('abort', abort, { once: true });
    gone.signal.addEventListener('abort', () => this.#closing.signal.removeEventListener('abort', abort), { once: true });
    return gone.signal;
  }

  #fail(res: ServerResponse, message: string, code = 'scripted_model_error'): void {
    sendJson(res, 500, openAIErrorBody(500, message, 'server_error', code), NO_RETRY);
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function ruleLabel(rule: ScriptRule): string {
  return rule.name === undefined ? '(unnamed)' : `"${rule.name}"`;
}
