import { describe, expect, it } from 'vitest';
import {
  ArchiveUnavailableError,
  CommandNotConfirmedError,
  ConversationNotFoundError,
  ConversationNotWaitingError,
  DefinitionError,
  ERROR_CODE_INFO,
  ErrorCode,
  ExpressionEvaluationError,
  ExpressionSyntaxError,
  HandoffError,
  HopFailedError,
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
  errorFromJson,
} from '../dist/index.js';

/** One instance of every error class, as the runtime throws it. */
const samples: HandoffError[] = [
  new DefinitionError('bad'),
  new UnknownAgentError('X', ['A'], 'Entry agent'),
  new ValidationError('bad'),
  new UnsupportedSchemaVersionError('A job', 9, 1),
  new ModelUnavailableError('down'),
  new ModelRequestRejectedError('no'),
  new ModelBehaviorError('odd'),
  new MaxHopsExceededError(3, ['A', 'B', 'A'], 'B'),
  new NetworkNotRegisteredError('handoff'),
  new ConversationNotFoundError('c_1'),
  new TimeoutError('A wait', 10),
  new CommandNotConfirmedError('The message', 'op_1', 10),
  new HopFailedError('agent.A', 'j', 'died', 3),
  new PayloadTooLargeError('A body', 10, 5),
  new RedisUnreachableError('redis://h:1', 10, 'ECONNREFUSED'),
  new UnsafeRedisConfigError('evicts', {}),
  new ExpressionSyntaxError('a >', 3, 'a value', 'end of input'),
  new ExpressionEvaluationError('3 > "a"', 'not comparable', 0),
  new MissingContextVariableError('x', ['y']),
  new ConversationNotWaitingError('c_1', 'completed'),
  new OverloadedError('A', 3, 2),
  new TurnTimeoutError('A', 10),
  new VersionConflictError('c_1', 1, 2),
  new UnauthorizedError('no key'),
  new ArchiveUnavailableError('load', 'c_1', new Error('down')),
];

/** The error code table the reference documentation is generated from agrees with the error classes. */
describe('ERROR_CODE_INFO', () => {
  it('says of each class what its errors say about retrying', () => {
    for (const error of samples) {
      const retryable = ERROR_CODE_INFO[error.code].retryable;
      if (typeof retryable === 'boolean') expect({ code: error.code, retryable: error.retryable }).toEqual({ code: error.code, retryable });
    }
    // The one code whose errors differ: retryable while the conversation runs.
    expect(new ConversationNotWaitingError('c_1', 'running').retryable).toBe(true);
    expect(new ConversationNotWaitingError('c_1', 'failed').retryable).toBe(false);
    expect(typeof ERROR_CODE_INFO.CONVERSATION_NOT_WAITING.retryable).toBe('string');
  });

  it('has an entry for every code', () => {
    expect(Object.keys(ERROR_CODE_INFO).sort()).toEqual(Object.values(ErrorCode).sort());
  });

  it('rebuilds every error from its JSON form as its own class, with the same code, message, retryable and details', () => {
    for (const error of samples) {
      const rebuilt = errorFromJson(JSON.parse(JSON.stringify(error)) as ReturnType<HandoffError['toJSON']>);
      expect(rebuilt.constructor).toBe(error.constructor);
      expect(rebuilt).toBeInstanceOf(HandoffError);
      expect(rebuilt.toJSON()).toEqual(error.toJSON());
      expect(rebuilt.name).toBe(error.name);
    }
    expect((errorFromJson(new UnknownAgentError('X', ['A'], 'Entry agent').toJSON()) as UnknownAgentError).agent).toBe('X');
    expect(errorFromJson({ code: 'INTERNAL', message: 'bug', retryable: false }).constructor).toBe(HandoffError);
  });
});
