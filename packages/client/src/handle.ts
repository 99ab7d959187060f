import type { ConversationResult, ConversationView, Message, NetworkDefinition, StoredEvent, TranscriptPage, TranscriptQuery } from '@handoff/core';
import type { TypedStartRequest } from './start-request.js';

/** Options of {@link ConversationHandle.events}. */
export interface EventsOptions {
  /** Resume after this event id (from a previous iteration); from the start by default. */
  after?: string;
  /** Stop waiting after this long without the conversation ending. @defaultValue no limit */
  timeoutMs?: number;
}

/** Options of {@link ConversationHandle.result}. */
export interface ResultOptions {
  /** Give up waiting after this long (the conversation goes on). @defaultValue 5 minutes */
  timeoutMs?: number;
  /** Wait for a stop of a record version after this one (after a message sent for that version). */
  afterVersion?: number;
}

/**
 * A handle on one conversation, the same over Redis and over HTTP: its status, its events as
 * they happen (replayable from the start, resumable after an event id), its result, the user's
 * next message, and cancellation. Any number of handles, in any processes, may watch one
 * conversation.
 */
export interface ConversationHandle {
  readonly id: string;
  /** The conversation now. @throws CONVERSATION_NOT_FOUND */
  status(): Promise<ConversationView>;
  /**
   * Waits for the conversation to stop — completed, failed, cancelled, or awaiting the user — and
   * returns how. @throws TIMEOUT when it has not stopped within `timeoutMs`.
   */
  result(options?: ResultOptions): Promise<ConversationResult>;
  /** Its events in order, from the start (or after `options.after`); ends after the terminal event. */
  events(options?: EventsOptions): AsyncGenerator<StoredEvent, void, undefined>;
  /**
   * A page of its transcript: the history in the OpenAI message format, oldest first, each message
   * with the agent whose turn added it (null for the user's); `next` is the `from` of the next
   * page. @throws CONVERSATION_NOT_FOUND, VALIDATION_FAILED for a bad `from` or `limit`.
   */
  messages(query?: TranscriptQuery): Promise<TranscriptPage>;
  /**
   * Sends the user's next message (`agent` picks who continues after an ask-user) and resolves
   * once the coordinator applied it. @throws CONVERSATION_NOT_WAITING when it cannot take one now,
   * VERSION_CONFLICT when another message or decision came first, TIMEOUT when no gateway confirmed
   * it in time (it stays queued: send again with the same `operationId` to learn its outcome).
   */
  send(message: string | Message, options?: SendOptions): Promise<void>;
  /**
   * Cancels it, and resolves once the coordinator has (a conversation that had already ended
   * stays as it ended; `status()` says which). Cancelling while the start is still queued
   * cancels it too. @throws CONVERSATION_NOT_FOUND, TIMEOUT as for {@link ConversationHandle.send}.
   */
  cancel(reason?: string, options?: CommandOptions): Promise<void>;
  /**
   * Approves tool calls the conversation waits on (`awaiting_user` with `waiting.kind` approval):
   * one by `toolCallId`, or all of them. The agent resumes once every call is decided.
   */
  approve(options?: ApprovalOptions): Promise<void>;
  /** Rejects tool calls the conversation waits on; the model is told, with the reason. */
  reject(options?: ApprovalOptions): Promise<void>;
}

/**
 * What every command (message, approval, cancel) takes: an operation id, unique per command. A
 * command sent twice with the same id applies once, and the second call learns the first one's
 * outcome — so a caller that timed out or lost the answer retries safely. @defaultValue a new id
 */
export interface CommandOptions {
  operationId?: string;
}

/** Options of {@link ConversationHandle.send}. */
export interface SendOptions extends CommandOptions {
  /** Who continues, from the ask-user choices. */
  agent?: string;
}

/** Which call to approve or reject (all pending ones by default), and why. */
export interface ApprovalOptions extends CommandOptions {
  toolCallId?: string;
  reason?: string;
}

/**
 * A client of a Handoff deployment, over Redis ({@link createClient}) or HTTP ({@link createHttpClient}).
 * `N` is the network's type (`typeof network`) for typed agent names and context; any network by default.
 */
export interface HandoffClient<N extends NetworkDefinition = NetworkDefinition> {
  /**
   * Starts a conversation and returns its handle at once.
   * @throws VALIDATION_FAILED for malformed input, INVALID_CONTEXT for a context the network's
   * context schema refuses, UNKNOWN_AGENT for an entry agent the network does not have, OVERLOADED
   * when the agent's queue is over its limit, NETWORK_NOT_REGISTERED when no gateway runs.
   */
  start(request: TypedStartRequest<N>): Promise<ConversationHandle>;
  /** A handle on an existing conversation (from this process or any other). */
  conversation(conversationId: string): ConversationHandle;
  /** The same as {@link HandoffClient.conversation}: re-attach to a conversation by id. */
  getHandle(conversationId: string): ConversationHandle;
  /** Cancels a conversation (see {@link ConversationHandle.cancel}). */
  cancel(conversationId: string, reason?: string, options?: CommandOptions): Promise<void>;
  /** Closes the client's connections. */
  close(): Promise<void>;
}
