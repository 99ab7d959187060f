import { describe, expect, it } from 'vitest';
import {
  Envelope,
  ErrorCode,
  HandoffError,
  Message,
  MaxHopsExceededError,
  TurnResult,
  UnsupportedSchemaVersionError,
  ValidationError,
  isHandoffError,
  parseBoundary,
  toErrorJson,
} from '../dist/index.js';

const envelope = {
  schemaVersion: 1,
  conversationId: 'c_1',
  hopId: 'c_1.h1',
  parentHopId: null,
  seq: 1,
  agent: 'A',
  previousAgent: null,
  reason: 'entry',
  historyLength: 3,
  context: { tier: 'gold', n: 3, nested: { ok: true } },
  path: ['A'],
  budget: { maxHops: 10 },
  usage: { promptTokens: 0, completionTokens: 0 },
  returnStack: [],
  createdAt: 1,
};

describe('boundary parsing', () => {
  it('accepts a valid v1 envelope', () => {
    expect(parseBoundary(Envelope, envelope, 'Envelope')).toEqual(envelope);
  });

  it('refuses another schema version with its own error, never guessing', () => {
    expect(() => parseBoundary(Envelope, { ...envelope, schemaVersion: 2 }, 'Envelope')).toThrowError(UnsupportedSchemaVersionError);
    expect(() => parseBoundary(Envelope, { ...envelope, schemaVersion: 2 }, 'Envelope')).toThrowError(/schemaVersion 2; this runtime reads version 1/);
  });

  it('names every bad field', () => {
    const bad = { ...envelope, seq: 0, historyLength: -1 };
    let caught: ValidationError | undefined;
    try {
      parseBoundary(Envelope, bad, 'Envelope');
    } catch (error) {
      caught = error as ValidationError;
    }
    expect(caught?.code).toBe(ErrorCode.VALIDATION_FAILED);
    expect(caught?.message).toMatch(/^Envelope is invalid: /);
    expect(caught?.details?.issues).toEqual(expect.arrayContaining([expect.stringMatching(/^seq: /), expect.stringMatching(/^historyLength: /)]));
  });

  it('rejects a turn result whose outcome is unknown', () => {
    const turn = { schemaVersion: 1, kind: 'turn', conversationId: 'c', hopId: 'c.h1', seq: 1, agent: 'A', newMessages: [], outcome: { type: 'teleport' }, usage: { promptTokens: 0, completionTokens: 0 }, attempt: 1, workerId: 'w', timing: { queuedAt: 0, startedAt: 0, firstModelCallAt: null, lastModelReturnAt: null, modelMs: 0, finishedAt: 0 } };
    expect(() => parseBoundary(TurnResult, turn, 'Turn result')).toThrowError(/outcome/);
  });
});

describe('messages', () => {
  it('accepts the OpenAI chat shapes, including a handoff tool call, and rejects unknown roles', () => {
    const history = [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'transfer_to_B', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"assistant":"B"}' },
    ];
    for (const message of history) expect(parseBoundary(Message, message, 'Message')).toEqual(message);
    expect(() => parseBoundary(Message, { role: 'robot', content: 'x' }, 'Message')).toThrowError(ValidationError);
  });
});

describe('errors', () => {
  it('round-trip through JSON with code, retryable flag and details', () => {
    const error = new MaxHopsExceededError(3, ['A', 'B', 'A']);
    const json = JSON.parse(JSON.stringify(error)) as ReturnType<HandoffError['toJSON']>;
    expect(json).toEqual({ code: 'MAX_HOPS_EXCEEDED', message: error.message, retryable: false, details: { maxHops: 3, path: ['A', 'B', 'A'] } });
    const rebuilt = HandoffError.fromJSON(json);
    expect(rebuilt.code).toBe('MAX_HOPS_EXCEEDED');
    expect(isHandoffError(rebuilt)).toBe(true);
  });

  it('maps foreign errors to a code without losing the message', () => {
    expect(toErrorJson(new Error('boom'))).toEqual({ code: 'INTERNAL', message: 'boom', retryable: false });
    expect(isHandoffError(new Error('x'))).toBe(false);
  });
});
