import { ErrorCode } from './error-codes.js';
import { HandoffError, type ErrorJson } from './handoff-error.js';
import {
  ArchiveUnavailableError,
  CommandNotConfirmedError,
  ConversationNotFoundError,
  ConversationNotStartedError,
  ConversationNotWaitingError,
  DefinitionError,
  GatewayUnreachableError,
  ExpressionEvaluationError,
  ExpressionSyntaxError,
  HopFailedError,
  InvalidContextError,
  MaxHopsExceededError,
  MissingContextVariableError,
  ModelBehaviorError,
  ModelRequestRejectedError,
  ModelUnavailableError,
  NetworkNotRegisteredError,
  OverloadedError,
  PayloadTooLargeError,
  RedisUnreachableError,
  TimeoutError,
  TurnTimeoutError,
  UnauthorizedError,
  UnknownAgentError,
  UnsafeRedisConfigError,
  UnsupportedSchemaVersionError,
  ValidationError,
  VersionConflictError,
} from './error-classes.js';

/** Any error class of the hierarchy, whatever its constructor takes. */
type ErrorClass = abstract new (...args: never[]) => HandoffError;

/**
 * The class a code is thrown as. Codes not listed (and the base class's own uses) rebuild as
 * {@link HandoffError}; `TIMEOUT` and `INVALID_EXPRESSION` pick their class by their details.
 */
const CLASS_OF_CODE: Partial<Record<ErrorCode, ErrorClass>> = {
  [ErrorCode.INVALID_DEFINITION]: DefinitionError,
  [ErrorCode.UNKNOWN_AGENT]: UnknownAgentError,
  [ErrorCode.VALIDATION_FAILED]: ValidationError,
  [ErrorCode.INVALID_CONTEXT]: InvalidContextError,
  [ErrorCode.UNSUPPORTED_SCHEMA_VERSION]: UnsupportedSchemaVersionError,
  [ErrorCode.MODEL_UNAVAILABLE]: ModelUnavailableError,
  [ErrorCode.MODEL_REQUEST_REJECTED]: ModelRequestRejectedError,
  [ErrorCode.MODEL_BEHAVIOR]: ModelBehaviorError,
  [ErrorCode.HOP_FAILED]: HopFailedError,
  [ErrorCode.PAYLOAD_TOO_LARGE]: PayloadTooLargeError,
  [ErrorCode.UNSAFE_REDIS_CONFIG]: UnsafeRedisConfigError,
  [ErrorCode.REDIS_UNREACHABLE]: RedisUnreachableError,
  [ErrorCode.ARCHIVE_UNAVAILABLE]: ArchiveUnavailableError,
  [ErrorCode.TURN_TIMEOUT]: TurnTimeoutError,
  [ErrorCode.OVERLOADED]: OverloadedError,
  [ErrorCode.MAX_HOPS_EXCEEDED]: MaxHopsExceededError,
  [ErrorCode.NETWORK_NOT_REGISTERED]: NetworkNotRegisteredError,
  [ErrorCode.CONVERSATION_NOT_WAITING]: ConversationNotWaitingError,
  [ErrorCode.VERSION_CONFLICT]: VersionConflictError,
  [ErrorCode.CONVERSATION_NOT_FOUND]: ConversationNotFoundError,
  [ErrorCode.CONVERSATION_NOT_STARTED]: ConversationNotStartedError,
  [ErrorCode.TIMEOUT]: TimeoutError,
  [ErrorCode.GATEWAY_UNREACHABLE]: GatewayUnreachableError,
  [ErrorCode.UNAUTHORIZED]: UnauthorizedError,
  [ErrorCode.MISSING_CONTEXT_VARIABLE]: MissingContextVariableError,
  [ErrorCode.INVALID_EXPRESSION]: ExpressionEvaluationError,
};

/** The class of an error's JSON form: by its code, refined by its details where one code has two classes. */
function classOf(json: ErrorJson): ErrorClass | undefined {
  const details = json.details ?? {};
  if (json.code === ErrorCode.TIMEOUT && typeof details.operationId === 'string') return CommandNotConfirmedError;
  if (json.code === ErrorCode.INVALID_EXPRESSION && typeof details.position === 'number' && 'expected' in details) return ExpressionSyntaxError;
  return CLASS_OF_CODE[json.code];
}

/**
 * Rebuilds an error that crossed a process boundary (a Redis reply, an HTTP body) as the class its
 * code is thrown as in-process — `UNKNOWN_AGENT` as {@link UnknownAgentError}, `VALIDATION_FAILED`
 * as {@link ValidationError}, … — with the same code, message, retryable flag and details, so a
 * caller's `instanceof` and `code` checks agree whichever client threw it. The fields some classes
 * add (`agent`, `variable`, `position`) are restored from the details.
 */
export function errorFromJson(json: ErrorJson): HandoffError {
  const error = HandoffError.fromJSON(json);
  const errorClass = classOf(json);
  if (errorClass === undefined) return error;
  Object.setPrototypeOf(error, errorClass.prototype);
  error.name = errorClass.name;
  const details = json.details ?? {};
  const restore = (field: string, value: unknown) => Object.defineProperty(error, field, { value, enumerable: true });
  if (errorClass === UnknownAgentError && typeof details.agent === 'string') restore('agent', details.agent);
  if (errorClass === MissingContextVariableError && typeof details.variable === 'string') restore('variable', details.variable);
  if (errorClass === InvalidContextError) restore('issues', Array.isArray(details.issues) ? details.issues : []);
  if (errorClass === ExpressionSyntaxError) restore('position', details.position);
  return error;
}
