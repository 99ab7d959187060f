import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool } from '@handoff/testing';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';
import { pingPongNetwork } from '../support/network-builders.js';

/** Two agents that always hand off: the hop limit must end the loop with a terminal result. */
describe('hop limit', () => {
  let rt: InProcessRuntime;
  beforeAll(async () => {
    rt = await startInProcess({
      label: 'hops',
      // Ping-pong detection would stop this pair first (6 by default); this test is about the hop cap.
      network: (url) => pingPongNetwork(url, { maxPingPong: 100 }),
      rules: [
        { when: hasTool('transfer_to_Pong'), reply: { toolCalls: [{ name: 'transfer_to_Pong', arguments: { reason: 'your turn' } }] } },
        { when: hasTool('transfer_to_Ping'), reply: { toolCalls: [{ name: 'transfer_to_Ping', arguments: { reason: 'your turn' } }] } },
      ],
    });
  });
  afterAll(() => rt.close());

  it('stops at the network default of 10 hops with a loop-limit result the client sees', async () => {
    const conversation = await rt.client.start({ agent: 'Ping', input: 'go' });
    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('max_hops_exceeded');
    expect(result.error).toMatchObject({ code: 'MAX_HOPS_EXCEEDED', details: { maxHops: 10 } });
    expect(result.path).toEqual(['Ping', 'Pong', 'Ping', 'Pong', 'Ping', 'Pong', 'Ping', 'Pong', 'Ping', 'Pong']);
    // Exactly ten turns ran: no extra model call after the limit.
    const calls = rt.model.requests.filter((r) => r.body.messages.some((m) => m.role === 'user' && m.content === 'go'));
    expect(calls).toHaveLength(10);
    const events = [];
    for await (const event of conversation.events()) events.push(event);
    expect(events.at(-1)?.type).toBe('conversation.failed');
    expect(events.filter((e) => e.type === 'handoff')).toHaveLength(9);
    expect(events.some((e) => e.type === 'error' && e.error.code === 'MAX_HOPS_EXCEEDED')).toBe(true);
  });

  it('takes a per-conversation limit', async () => {
    const conversation = await rt.client.start({ agent: 'Ping', input: 'short loop', limits: { maxHops: 3 } });
    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result).toMatchObject({ status: 'failed', reason: 'max_hops_exceeded', path: ['Ping', 'Pong', 'Ping'] });
    // The error's path is the result's; the hop it refused is named apart.
    expect(result.error?.details).toEqual({ maxHops: 3, path: result.path, refused: 'Pong' });
    expect(result.error?.message).toContain('(path: Ping → Pong → Ping); the next hop, to Pong, was not taken');
  });

  it('rejects a limit that is not a positive integer before anything starts', async () => {
    await expect(rt.client.start({ agent: 'Ping', input: 'x', limits: { maxHops: 0 } })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/limits\.maxHops/),
    });
  });
});
