/**
 * Every error code the runtime uses. Codes survive serialisation through Redis and HTTP, so code
 * that reacts to an error compares codes, never messages or classes.
 */
export const ErrorCode = {
  /** A network or agent definition is invalid; the message says which field and why. */
  INVALID_DEFINITION: 'INVALID_DEFINITION',
  /** An agent name that the network does not contain (entry agent, handoff target). */
  UNKNOWN_AGENT: 'UNKNOWN_AGENT',
  /** A message that crossed a process boundary failed its schema. */
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  /** A message written by a newer or older runtime version than this one reads. */
  UNSUPPORTED_SCHEMA_VERSION: 'UNSUPPORTED_SCHEMA_VERSION',
  /** The model endpoint could not be reached or kept failing after retries. */
  MODEL_UNAVAILABLE: 'MODEL_UNAVAILABLE',
  /** The model endpoint refused the request (4xx other than 408/409/429). */
  MODEL_REQUEST_REJECTED: 'MODEL_REQUEST_REJECTED',
  /** The model kept producing unusable output (e.g. invalid tool calls) for the whole turn. */
  MODEL_BEHAVIOR: 'MODEL_BEHAVIOR',
  /** A hop's job failed for good: its worker kept crashing or dying (stall limit), or kept throwing. */
  HOP_FAILED: 'HOP_FAILED',
  /** A payload is larger than the runtime accepts. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** Redis did not answer within the connect timeout (not running, wrong host or port, a firewall, TLS expected). */
  REDIS_UNREACHABLE: 'REDIS_UNREACHABLE',
  /** Redis is configured in a way that can lose the runtime's data (e.g. an eviction policy). */
  UNSAFE_REDIS_CONFIG: 'UNSAFE_REDIS_CONFIG',
  /** The same two agents handed off back and forth more than the limit allows. */
  PING_PONG_DETECTED: 'PING_PONG_DETECTED',
  /** An agent was visited more often than the limit allows. */
  MAX_VISITS_EXCEEDED: 'MAX_VISITS_EXCEEDED',
  /** The conversation ran past its deadline. */
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  /** The conversation used more tokens than its budget. */
  TOKEN_BUDGET_EXCEEDED: 'TOKEN_BUDGET_EXCEEDED',
  /** A turn ran longer than its agent's turn timeout. */
  TURN_TIMEOUT: 'TURN_TIMEOUT',
  /** The conversation was cancelled. */
  CANCELLED: 'CANCELLED',
  /** Every agent of a fallback list failed. */
  ALL_FALLBACKS_FAILED: 'ALL_FALLBACKS_FAILED',
  /** An agent's queue is longer than its limit; try again later. */
  OVERLOADED: 'OVERLOADED',
  /** A router could not pick an agent. */
  ROUTING_FAILED: 'ROUTING_FAILED',
  /** The conversation reached its hop limit. */
  MAX_HOPS_EXCEEDED: 'MAX_HOPS_EXCEEDED',
  /** No gateway has registered a network under this key prefix. */
  NETWORK_NOT_REGISTERED: 'NETWORK_NOT_REGISTERED',
  /** The conversation cannot take a user message now (it is running, or it failed). */
  CONVERSATION_NOT_WAITING: 'CONVERSATION_NOT_WAITING',
  /** The conversation changed after the caller read it (another message or decision came first); read it again and retry. */
  VERSION_CONFLICT: 'VERSION_CONFLICT',
  /** No conversation with this id exists (or it expired). */
  CONVERSATION_NOT_FOUND: 'CONVERSATION_NOT_FOUND',
  /** A caller-side wait ran out of time. The conversation itself may still be running. */
  TIMEOUT: 'TIMEOUT',
  /** An HTTP request without a valid bearer token. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** No such HTTP route. */
  NOT_FOUND: 'NOT_FOUND',
  /** A bug or an unexpected state inside the runtime. */
  INTERNAL: 'INTERNAL',
  /** A context-condition expression is malformed, or failed to evaluate (e.g. `3 > "a"`). */
  INVALID_EXPRESSION: 'INVALID_EXPRESSION',
  /** An expression or template referenced a context variable that the context does not hold. */
  MISSING_CONTEXT_VARIABLE: 'MISSING_CONTEXT_VARIABLE',
} as const;

/** One of {@link ErrorCode}'s values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
