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

/** A message of a schema version this runtime does not read. */
export class UnsupportedSchemaVersionError extends HandoffError {
  constructor(what: string, found: unknown, supported: number) {
    super(
      ErrorCode.UNSUPPORTED_SCHEMA_VERSION,
      `${what} has schemaVersion ${JSON.stringify(found)}; this runtime reads version ${supported} only. ` +
        'Run the same Handoff version on every worker, gateway and client.',
      { details: { found, supported } },
    );
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

/** The conversation reached its hop limit. */
export class MaxHopsExceededError extends HandoffError {
  constructor(maxHops: number, path: readonly string[]) {
    super(
      ErrorCode.MAX_HOPS_EXCEEDED,
      `The conversation reached its limit of ${maxHops} hops (path: ${path.join(' → ')}). ` +
        'Raise maxHops on the network or the conversation, or give the agents a way to finish.',
      { details: { maxHops, path: [...path] } },
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

/** Redis is configured in a way that can lose the runtime's data. */
export class UnsafeRedisConfigError extends HandoffError {
  constructor(message: string, details: Record<string, unknown>) {
    super(ErrorCode.UNSAFE_REDIS_CONFIG, message, { details });
  }
}
