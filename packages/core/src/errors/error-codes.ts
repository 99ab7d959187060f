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
  /** A conversation's context failed the network's context schema (`defineNetwork({ context })`). */
  INVALID_CONTEXT: 'INVALID_CONTEXT',
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
  /** The conversation's start waits in its coordinator partition's inbox: no gateway has applied it (none is running for this deployment, or it is busy). */
  CONVERSATION_NOT_STARTED: 'CONVERSATION_NOT_STARTED',
  /** A caller-side wait ran out of time. The conversation itself may still be running. */
  TIMEOUT: 'TIMEOUT',
  /** The HTTP client could not reach the gateway's HTTP API (not running, a wrong URL or port). */
  GATEWAY_UNREACHABLE: 'GATEWAY_UNREACHABLE',
  /** An HTTP request without a valid bearer token. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** No such HTTP route. */
  NOT_FOUND: 'NOT_FOUND',
  /** The archive of finished conversations (PostgreSQL) could not be reached or refused a read or write; retried later. */
  ARCHIVE_UNAVAILABLE: 'ARCHIVE_UNAVAILABLE',
  /** A bug or an unexpected state inside the runtime. */
  INTERNAL: 'INTERNAL',
  /** A context-condition expression is malformed, or failed to evaluate (e.g. `3 > "a"`). */
  INVALID_EXPRESSION: 'INVALID_EXPRESSION',
  /** An expression or template referenced a context variable that the context does not hold. */
  MISSING_CONTEXT_VARIABLE: 'MISSING_CONTEXT_VARIABLE',
} as const;

/** One of {@link ErrorCode}'s values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What an error code means, and whether the same call may succeed if made again. */
export interface ErrorCodeInfo {
  /** One line: what went wrong. */
  meaning: string;
  /** True or false; or when it is retryable, for codes whose errors differ (`retryable` on each error says). */
  retryable: boolean | string;
}

/**
 * Every error code's meaning and retryability, as the reference documentation lists them (the
 * `retryable` flag of each error is the authority; a test checks that this table agrees with the
 * error classes).
 */
export const ERROR_CODE_INFO: Readonly<Record<ErrorCode, ErrorCodeInfo>> = {
  INVALID_DEFINITION: { meaning: 'A network or agent definition (or a CLI option, or the network module) is invalid; the message says which field and why.', retryable: false },
  UNKNOWN_AGENT: { meaning: 'An agent name that the network does not contain (entry agent, handoff target, --agents).', retryable: false },
  VALIDATION_FAILED: { meaning: 'Input that crossed a boundary (a request, a command, an event id, a context nested too deep) failed its schema; the message names each bad field.', retryable: false },
  INVALID_CONTEXT: { meaning: "A conversation's context (client.start, POST /v1/conversations) failed the network's context schema; `details.issues` names each failing path.", retryable: false },
  UNSUPPORTED_SCHEMA_VERSION: { meaning: 'A message written by a newer or older runtime version than this one reads.', retryable: false },
  MODEL_UNAVAILABLE: { meaning: 'The model endpoint could not be reached or kept failing after its retries.', retryable: true },
  MODEL_REQUEST_REJECTED: { meaning: 'The model endpoint refused the request (4xx other than 408/409/429).', retryable: false },
  MODEL_BEHAVIOR: { meaning: 'The model kept producing unusable output (e.g. invalid tool calls) for the whole turn.', retryable: false },
  HOP_FAILED: { meaning: "A hop (or coordinator job) failed for good: its worker kept dying (stall limit) or its turn kept throwing.", retryable: true },
  PAYLOAD_TOO_LARGE: { meaning: 'A request body, start request, envelope or job is larger than the runtime accepts.', retryable: false },
  REDIS_UNREACHABLE: { meaning: 'Redis did not answer within the connect timeout (one-shot CLI commands).', retryable: true },
  UNSAFE_REDIS_CONFIG: { meaning: 'Redis is configured in a way that can lose the runtime\'s data (an eviction policy other than noeviction).', retryable: false },
  PING_PONG_DETECTED: { meaning: 'The same two agents handed off back and forth more than the limit allows.', retryable: false },
  MAX_VISITS_EXCEEDED: { meaning: 'An agent was visited more often than the limit allows.', retryable: false },
  DEADLINE_EXCEEDED: { meaning: 'The conversation ran past its deadline.', retryable: false },
  TOKEN_BUDGET_EXCEEDED: { meaning: 'The conversation used more tokens than its budget.', retryable: false },
  TURN_TIMEOUT: { meaning: "A turn ran longer than its agent's turn timeout.", retryable: true },
  CANCELLED: { meaning: 'The conversation was cancelled.', retryable: false },
  ALL_FALLBACKS_FAILED: { meaning: 'Every agent of a fallback list failed; the details list each failure.', retryable: false },
  OVERLOADED: { meaning: "An agent's queue is longer than its maxWaiting; new conversations for it are refused.", retryable: true },
  ROUTING_FAILED: { meaning: 'A router could not pick an agent.', retryable: false },
  MAX_HOPS_EXCEEDED: { meaning: 'The conversation reached its hop limit.', retryable: false },
  NETWORK_NOT_REGISTERED: { meaning: 'No gateway has registered a network under this key prefix.', retryable: true },
  CONVERSATION_NOT_WAITING: { meaning: 'The conversation cannot take this message or approval now (it runs, it ended, or it waits for something else).', retryable: 'while the conversation runs (it may wait later)' },
  VERSION_CONFLICT: { meaning: 'Another message or decision came first (two tabs answered at once); read the conversation again.', retryable: true },
  CONVERSATION_NOT_FOUND: { meaning: 'No conversation with this id exists (or it expired).', retryable: false },
  CONVERSATION_NOT_STARTED: { meaning: 'The conversation exists, but its start still waits in its coordinator partition\'s inbox: no gateway has applied it (is `handoff gateway` running for this REDIS_URL and prefix?).', retryable: true },
  TIMEOUT: { meaning: 'A caller-side wait ran out (a result, or a command no gateway confirmed in time; it stays queued).', retryable: true },
  GATEWAY_UNREACHABLE: { meaning: "The HTTP client could not reach the gateway's HTTP API (not running, a wrong URL or port); the message names the URL.", retryable: true },
  UNAUTHORIZED: { meaning: 'An HTTP request without a valid API key.', retryable: false },
  NOT_FOUND: { meaning: 'No such HTTP route.', retryable: false },
  ARCHIVE_UNAVAILABLE: { meaning: 'The archive of finished conversations (PostgreSQL) could not be reached or refused a read or write; retried later.', retryable: true },
  INTERNAL: { meaning: 'A bug or an unexpected state inside the runtime.', retryable: false },
  INVALID_EXPRESSION: { meaning: 'A context-condition expression is malformed, or failed to evaluate (e.g. `3 > "a"`).', retryable: false },
  MISSING_CONTEXT_VARIABLE: { meaning: 'An expression or template referenced a context variable that the context does not hold.', retryable: false },
};
