import { describe, expect, it } from 'vitest';
import {
  and,
  hasTool,
  lastUserIncludes,
  lastUserText,
  systemIncludes,
  systemText,
  toolNames,
  type ChatCompletionRequestBody,
  type RecordedRequest,
} from '../dist/index.js';

function req(body: Partial<ChatCompletionRequestBody>): RecordedRequest {
  return { index: 0, receivedAt: 0, receivedAtHr: 0, answeredAtHr: undefined, abortedAtHr: undefined, headers: {}, body: { model: 'm', messages: [], ...body } };
}

const conversation = req({
  messages: [
    { role: 'system', content: 'You are the triage agent.' },
    { role: 'developer', content: [{ type: 'text', text: 'Hand off ' }, { type: 'text', text: 'billing questions.' }] },
    { role: 'user', content: 'first question' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: 'tool result' },
    { role: 'user', content: [{ type: 'text', text: 'my invoice' }, { type: 'image_url', image_url: { url: 'x' } }] },
  ],
  tools: [
    { type: 'function', function: { name: 'lookup' } },
    { type: 'function', function: { name: 'handoff_to_billing' } },
  ],
});

describe('matchers', () => {
  it('read the last user text, system text and tool names', () => {
    expect(lastUserText(conversation)).toBe('my invoice');
    expect(systemText(conversation)).toBe('You are the triage agent.\nHand off billing questions.');
    expect(toolNames(conversation)).toEqual(['lookup', 'handoff_to_billing']);
  });

  it('give undefined or [] when the request has no such part', () => {
    const empty = req({ messages: [{ role: 'assistant', content: 'hi' }] });
    expect(lastUserText(empty)).toBeUndefined();
    expect(systemText(empty)).toBeUndefined();
    expect(toolNames(empty)).toEqual([]);
  });

  it('build predicates', () => {
    expect(hasTool('handoff_to_billing')(conversation)).toBe(true);
    expect(hasTool('handoff_to_sales')(conversation)).toBe(false);
    expect(systemIncludes('triage')(conversation)).toBe(true);
    expect(systemIncludes('sales')(conversation)).toBe(false);
    expect(lastUserIncludes('invoice')(conversation)).toBe(true);
    expect(lastUserIncludes('first')(conversation)).toBe(false);
    expect(lastUserIncludes('x')(req({}))).toBe(false);
    expect(and(hasTool('lookup'), lastUserIncludes('invoice'))(conversation)).toBe(true);
    expect(and(hasTool('lookup'), lastUserIncludes('refund'))(conversation)).toBe(false);
    expect(and()(conversation)).toBe(true);
  });
});
