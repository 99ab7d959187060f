import { ErrorCode } from './error-codes.js';
import { HandoffError, type HandoffErrorOptions } from './handoff-error.js';

/** A definition problem: the user's network or agent configuration must change. */
export class DefinitionError extends HandoffError {
  constructor(message: string, options: HandoffErrorOptions = {}) {
    super(ErrorCode.INVALID_DEFINITION, message, options);
  }
}

/** An agent name that the network does not contain. */
export class UnknownAgentError extends HandoffError {
  /** The name that was not found. */
  readonly agent: string;
  constructor(agent: string, known: readonly string[], context: string) {
    super(
      ErrorCode.UNKNOWN_AGENT,
      `${context}: unknown agent "${agent}". The network has: ${known.join(', ') || '(no agents)'}.`,
      { details: { agent, known: [...known] } },
    );
    this.agent = agent;
  }
}

/** A value that crossed a process boundary and failed its schema. */
export class ValidationError extends HandoffError {
  constructor(message: string, options: HandoffErrorOptions = {}) {
    super(ErrorCode.VALIDATION_FAILED, message, options);
  }
}

/** One failing path of a context checked against the network's context schema. */
export interface ContextIssue {
  /** Dotted path into the context (`(root)` for the context itself), e.g. `customer.tier`. */
  readonly path: string;
  readonly message: string;
}

/**
 * A conversation's context failed the network's context schema (`defineNetwork({ context })`).
 * The message names every failing path; `issues` (also in `details.issues`) lists them.
 */
export class InvalidContextError extends HandoffError {
  /** Each failing path and why. */
  readonly issues: readonly ContextIssue[];
  constructor(network: string, issues: readonly ContextIssue[]) {
    const shown = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ');
    super(
      ErrorCode.INVALID_CONTEXT,
      `The context does not match the context schema of network "${network}": ${shown}${issues.length > 5 ? ` (+${issues.length - 5} more)` : ''}.`,
      { details: { network, issues: issues.map((i) => ({ path: i.path, message: i.message })) } },
    );
    this.issues = issues;
  }
}

/** A message of a schema version this runtime does not read. */
export class UnsupportedSchemaVersionError extends HandoffError {
  constructor(what: string, found: unknown, supported: number) {
    const shown = jsonOrNull(found);
    super(
      ErrorCode.UNSUPPORTED_SCHEMA_VERSION,
      `${what} has schemaVersion ${shown === null ? `of type ${typeof found}` : shown.length > 100 ? `${shown.slice(0, 100)}…` : shown}; ` +
        `this runtime reads version ${supported} only. Run the same Handoff version on every worker, gateway and client.`,
      { details: { found: shown === null ? null : found, supported } },
    );
  }
}

/** `value` as JSON, or null when it has none (undefined, a BigInt, a cycle…). */
function jsonOrNull(value: unknown): string | null {
  try {
    return JSON.stringify(value) ?? null;
  } catch {
    return null;
  }
}

/** The model endpoint failed after the client's retries. */
export class ModelUnavailableError extends HandoffError {
  constructor(message: string, options: HandoffErrorOptions = {}) {
    super(ErrorCode.MODEL_UNAVAILABLE, message, { retryable: true, ...options });
  }
}

/** The model endpoint rejected the request as invalid (not worth retrying). */
export class ModelRequestRejectedError extends HandoffError {
  constructor(message: string, options: HandoffErrorOptions = {}) {
    super(ErrorCode.MODEL_REQUEST_REJECTED, message, options);
  }
}

/** The model kept producing output the runtime could not use. */
export class ModelBehaviorError extends HandoffError {
  constructor(message: string, options: HandoffErrorOptions = {}) {
    super(ErrorCode.MODEL_BEHAVIOR, message, options);
  }
}

/**
 * The conversation reached its hop limit. `path` is the conversation's path as its result reports
 * it (the agents that took a turn); `refused` is the agent the next hop would have gone to.
 */
export class MaxHopsExceededError extends HandoffError {
  constructor(maxHops: number, path: readonly string[], refused?: string) {
    super(
      ErrorCode.MAX_HOPS_EXCEEDED,
      `The conversation reached its limit of ${maxHops} hops (path: ${path.join(' → ')})` +
        `${refused === undefined ? '' : `; the next hop, to ${refused}, was not taken`}. ` +
        'Raise maxHops on the network or the conversation, or give the agents a way to finish.',
      { details: { maxHops, path: [...path], ...(refused === undefined ? {} : { refused }) } },
    );
  }
}

/** No network has been registered under the key prefix (no gateway has started). */
export class NetworkNotRegisteredError extends HandoffError {
  constructor(prefix: string) {
    super(
      ErrorCode.NETWORK_NOT_REGISTERED,
      `No network is registered under key prefix "${prefix}". Start a gateway (handoff gateway --network <module>) ` +
        'with the same REDIS_URL and prefix first.',
      { retryable: true, details: { prefix } },
    );
  }
}

/** No conversation with this id exists. */
export class ConversationNotFoundError extends HandoffError {
  constructor(conversationId: string) {
    super(ErrorCode.CONVERSATION_NOT_FOUND, `Conversation "${conversationId}" does not exist or has expired.`, {
      details: { conversationId },
    });
  }
}

/**
 * The conversation's start is queued but no gateway has applied it yet, so it has no status to
 * read: usually no gateway runs for this deployment. It starts as soon as one does.
 */
export class ConversationNotStartedError extends HandoffError {
  constructor(conversationId: string, prefix: string, waitedMs: number) {
    super(
      ErrorCode.CONVERSATION_NOT_STARTED,
      `Conversation "${conversationId}" waits for a gateway: its start is queued on its coordinator partition's inbox, and no gateway applied it within ${waitedMs} ms. ` +
        `Is a gateway running (handoff gateway --network <module>) with the same REDIS_URL and prefix "${prefix}"? It starts as soon as one does.`,
      { retryable: true, details: { conversationId, prefix, waitedMs } },
    );
  }
}

/** The HTTP client's request never reached the gateway: nothing listens at its base URL, or the network refused. */
export class GatewayUnreachableError extends HandoffError {
  constructor(url: string, cause: unknown) {
    const reason = ((cause as { cause?: { code?: unknown } })?.cause?.code ?? (cause instanceof Error ? cause.message : String(cause))) as string;
    super(
      ErrorCode.GATEWAY_UNREACHABLE,
      `The gateway's HTTP API at ${url} could not be reached (${reason}). Check that a gateway runs with --http-port there ` +
        '(handoff gateway --network <module> --http-port <port>) and that baseUrl names its host and port.',
      { retryable: true, details: { url, reason }, cause },
    );
  }
}

/** The archive of finished conversations could not be reached, or refused a read or write. Retryable. */
export class ArchiveUnavailableError extends HandoffError {
  constructor(operation: 'save' | 'load' | 'setup', conversationId: string | null, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(ErrorCode.ARCHIVE_UNAVAILABLE, `The archive could not ${operation === 'setup' ? 'create its table' : `${operation} conversation "${conversationId}"`}: ${reason}`, {
      retryable: true,
      details: { operation, ...(conversationId === null ? {} : { conversationId }) },
      cause,
    });
  }
}

/** A caller-side wait ran out of time; the conversation may still finish later. */
export class TimeoutError extends HandoffError {
  constructor(what: string, timeoutMs: number) {
    super(ErrorCode.TIMEOUT, `${what} did not finish within ${timeoutMs} ms.`, {
      retryable: true,
      details: { timeoutMs },
    });
  }
}

/** A hop's job failed for good (its worker died more often than the stall limit allows, or kept throwing). */
export class HopFailedError extends HandoffError {
  constructor(queue: string, jobId: string | undefined, reason: string, attempts: number) {
    super(ErrorCode.HOP_FAILED, `The job ${jobId ?? '(no id)'} on queue "${queue}" failed after ${attempts} attempt(s): ${reason}`, {
      retryable: true,
      details: { queue, jobId, reason, attempts },
    });
  }
}

/** A payload larger than the runtime accepts. */
export class PayloadTooLargeError extends HandoffError {
  constructor(what: string, bytes: number, limit: number) {
    super(ErrorCode.PAYLOAD_TOO_LARGE, `${what} is ${bytes} bytes; the limit is ${limit}.`, { details: { bytes, limit } });
  }
}

/**
 * Redis did not answer within the connect timeout. The message names the URL (its password
 * redacted) and what to check; `details` holds `url`, `timeoutMs` and the last connection error.
 */
export class RedisUnreachableError extends HandoffError {
  constructor(redactedUrl: string, timeoutMs: number, lastError: string | undefined) {
    super(
      ErrorCode.REDIS_UNREACHABLE,
      `Redis at ${redactedUrl} did not answer within ${timeoutMs} ms${lastError ? ` (${lastError})` : ''}. ` +
        'Check that Redis is running and reachable from here, and that REDIS_URL or --redis-url names its host and port ' +
        '(rediss:// when it expects TLS); --connect-timeout <ms> or HANDOFF_CONNECT_TIMEOUT_MS waits longer.',
      { retryable: true, details: { url: redactedUrl, timeoutMs, ...(lastError ? { lastError } : {}) } },
    );
  }
}

/** Redis is configured in a way that can lose the runtime's data. */
export class UnsafeRedisConfigError extends HandoffError {
  constructor(message: string, details: Record<string, unknown>) {
    super(ErrorCode.UNSAFE_REDIS_CONFIG, message, { details });
  }
}

/** Longest source kept in expression error details (longer sources are cut and end with `…`). */
const EXPRESSION_SOURCE_IN_DETAILS = 4096;
/** Width of the source excerpt shown in expression error messages. */
const EXPRESSION_SNIPPET_WIDTH = 80;

/** The source as kept in details: cut at {@link EXPRESSION_SOURCE_IN_DETAILS} characters. */
function expressionSourceForDetails(source: string): string {
  return source.length > EXPRESSION_SOURCE_IN_DETAILS ? `${source.slice(0, EXPRESSION_SOURCE_IN_DETAILS)}…` : source;
}

/**
 * A one-line excerpt of `source` around `position` (whole if short), with line breaks and tabs shown
 * as spaces so that a caret line lines up under it, and the caret's column in the excerpt.
 */
function expressionSnippet(source: string, position: number): { text: string; caret: number } {
  let start = 0;
  let end = source.length;
  if (source.length > EXPRESSION_SNIPPET_WIDTH) {
    start = Math.max(0, Math.min(position - EXPRESSION_SNIPPET_WIDTH / 2, source.length - EXPRESSION_SNIPPET_WIDTH));
    end = start + EXPRESSION_SNIPPET_WIDTH;
  }
  const prefix = start > 0 ? '…' : '';
  const suffix = end < source.length ? '…' : '';
  let body = '';
  for (const ch of source.slice(start, end)) body += ch === '\n' || ch === '\r' || ch === '\t' || ch === '\v' || ch === '\f' ? ' ' : ch;
  return { text: `${prefix}${body}${suffix}`, caret: prefix.length + (position - start) };
}

/** `at position P ("source"): what` followed by the source and a caret line under P. */
function describeAtPosition(source: string, position: number, what: string): string {
  const { text, caret } = expressionSnippet(source, position);
  return `at position ${position} ("${text}"): ${what}\n  ${text}\n  ${' '.repeat(Math.max(0, caret))}^`;
}

/**
 * A context-condition expression that the grammar does not allow. `details` holds `source`,
 * `position` (0-based character offset of the offending input; the source's length for "end of
 * input"), `expected` and `found`, as shown in the message, which also points at the position with
 * a caret line.
 */
export class ExpressionSyntaxError extends HandoffError {
  /** 0-based character offset of the offending input in the source. */
  readonly position: number;
  constructor(source: string, position: number, expected: string, found: string, hint?: string) {
    super(
      ErrorCode.INVALID_EXPRESSION,
      `Invalid expression ${describeAtPosition(source, position, `expected ${expected}, found ${found}${hint === undefined ? '' : ` (${hint})`}`)}`,
      { details: { source: expressionSourceForDetails(source), position, found, expected } },
    );
    this.position = position;
  }
}

/**
 * A well-formed expression that cannot be evaluated against the given context, e.g. an ordering
 * comparison between a number and a string. `details` holds `source`, `reason` and, when known,
 * `position` (the offset of the failing sub-expression).
 */
export class ExpressionEvaluationError extends HandoffError {
  constructor(source: string, reason: string, position?: number) {
    super(
      ErrorCode.INVALID_EXPRESSION,
      position === undefined
        ? `Cannot evaluate expression "${expressionSnippet(source, 0).text}": ${reason}`
        : `Cannot evaluate expression ${describeAtPosition(source, position, reason)}`,
      { details: { source: expressionSourceForDetails(source), reason, ...(position === undefined ? {} : { position }) } },
    );
  }
}

/** An expression or template referenced a context variable that the context does not hold. */
export class MissingContextVariableError extends HandoffError {
  /** The variable that was not found. */
  readonly variable: string;
  /**
   * @param variable - the missing name
   * @param available - the names the context does hold
   * @param usedIn - where it was referenced, e.g. `expression "${a} > 1"`, for the message
   */
  constructor(variable: string, available: readonly string[], usedIn?: string) {
    const shown = available.slice(0, 20).join(', ') + (available.length > 20 ? ` (+${available.length - 20} more)` : '');
    super(
      ErrorCode.MISSING_CONTEXT_VARIABLE,
      `Context variable "${variable}" is not set${usedIn === undefined ? '' : ` (referenced in ${usedIn})`}. ` +
        (available.length === 0 ? 'The context holds no variables.' : `Available: ${shown}.`),
      { details: { variable, available: [...available] } },
    );
    this.variable = variable;
  }
}

/**
 * The conversation cannot take this command in its current state: a user message (it runs, or it
 * failed or was cancelled), or an approval (it waits for none). `details.command` says which.
 */
export class ConversationNotWaitingError extends HandoffError {
  constructor(conversationId: string, status: string, command: 'message' | 'approval' = 'message') {
    super(
      ErrorCode.CONVERSATION_NOT_WAITING,
      command === 'approval'
        ? `Conversation "${conversationId}" is ${status} and waits for no approval; tool calls can be approved or rejected only while it waits for them (status awaiting_user, waiting.kind "approval").`
        : `Conversation "${conversationId}" is ${status}; a message can be sent when it waits for the user or has completed.`,
      { retryable: status === 'running' || status === 'awaiting_child', details: { conversationId, status, command } },
    );
  }
}

/** An agent's queue is longer than its limit; new conversations for it are refused at once. */
export class OverloadedError extends HandoffError {
  constructor(agent: string, waiting: number, limit: number) {
    super(ErrorCode.OVERLOADED, `Agent "${agent}" has ${waiting} hops waiting (limit ${limit}); try again later or add workers.`, {
      retryable: true,
      details: { agent, waiting, limit },
    });
  }
}

/** A turn ran longer than its agent's turn timeout. */
export class TurnTimeoutError extends HandoffError {
  constructor(agent: string, timeoutMs: number) {
    super(ErrorCode.TURN_TIMEOUT, `Agent "${agent}"'s turn did not finish within ${timeoutMs} ms.`, { retryable: true, details: { agent, timeoutMs } });
  }
}

/**
 * A turn's hop is no longer the one its conversation waits for (another run of the hop reported
 * first, or the conversation was cancelled or moved on): the turn journal refused this run's
 * entry, and the run stops without reporting.
 */
export class StaleHopError extends HandoffError {
  constructor(hopId: string, agent: string) {
    super(ErrorCode.VERSION_CONFLICT, `Hop ${hopId} of agent "${agent}" is no longer pending: another run reported it, or its conversation moved on.`, { details: { hopId, agent } });
  }
}

/** A command was decided against a state of the conversation that has changed since (two tabs answered at once). */
export class VersionConflictError extends HandoffError {
  constructor(conversationId: string, expectedVersion: number, version: number) {
    super(
      ErrorCode.VERSION_CONFLICT,
      `Conversation "${conversationId}" changed (version ${expectedVersion} → ${version}) before this command applied; read it again and resend if it still applies.`,
      { retryable: true, details: { conversationId, expectedVersion, version } },
    );
  }
}

/**
 * A command was queued but no gateway confirmed it in time (none running, or all busy). It stays
 * queued and applies when a gateway takes it; calling again with the same operation id is safe
 * and returns its outcome.
 */
export class CommandNotConfirmedError extends HandoffError {
  constructor(what: string, operationId: string, timeoutMs: number) {
    super(
      ErrorCode.TIMEOUT,
      `${what} (operation ${operationId}) was not confirmed within ${timeoutMs} ms: no gateway has taken it yet. It stays queued and applies when one does; call again with operationId "${operationId}" to learn its outcome.`,
      { retryable: true, details: { operationId, timeoutMs } },
    );
  }
}

/** An HTTP request without a valid API key (`Authorization: Bearer <key>`). */
export class UnauthorizedError extends HandoffError {
  constructor(message: string) {
    super(ErrorCode.UNAUTHORIZED, message);
  }
}
