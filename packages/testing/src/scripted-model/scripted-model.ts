import type { RecordedRequest } from './recorded-request.js';
import type { ScriptRule } from './script-rule.js';

/** Options of `startScriptedModel`. */
export interface ScriptedModelOptions {
  /** Initial rules, tried in order. */
  rules?: ScriptRule[];
  /** Port to listen on; default 0 (any free port). */
  port?: number;
  /** Address to listen on; default `127.0.0.1`. */
  host?: string;
  /** Characters per streamed content (and tool-argument) delta; default 8. */
  chunkSize?: number;
  /** Milliseconds to wait before every answer; default 0 (no timer at all). */
  latencyMs?: number;
}

/** A running scripted OpenAI-compatible model server. */
export interface ScriptedModel {
  /** Base URL for the `openai` client (`http://host:port/v1`). */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Every chat-completions request received since start or the last `reset()`, in order. */
  readonly requests: readonly RecordedRequest[];
  /** The requests no rule matched (they were answered with HTTP 500). */
  readonly unmatched: readonly RecordedRequest[];
  /** Adds a rule after the others (rules are tried in order; the first match with uses left wins). */
  addRule(rule: ScriptRule): void;
  /** Adds a rule before the others. */
  prependRule(rule: ScriptRule): void;
  /** Removes every rule and forgets every recorded request. */
  reset(): void;
  /** Forgets every recorded request and keeps the rules (long runs use it to bound memory). */
  clearRequests(): void;
  /**
   * Resolves once at least `n` requests have been received (counting from the last `reset()`).
   *
   * @param n - how many requests to wait for
   * @param timeoutMs - reject after this long; default 5000
   */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  /** Stops listening and ends every open response, held or hanging ones included. */
  close(): Promise<void>;
}
