import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '@handoff/core';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';
import { chainNetwork } from '../support/network-builders.js';
import { lastUserText } from '@handoff/testing';

/** Collects every event of an iteration, failing when it does not end within `ms`. */
async function drain(events: AsyncIterable<StoredEvent>, ms = 5_000): Promise<StoredEvent[]> {
  const seen: StoredEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the event iteration did not end within ${ms} ms (saw ${seen.map((e) => e.type).join(', ')})`)), ms);
  });
  try {
    await Promise.race([(async () => { for await (const event of events) seen.push(event); })(), hang]);
  } finally {
    clearTimeout(timer);
  }
  return seen;
}

/** `handle.events({ after })` over Redis ends when nothing after `after` remains of a finished conversation. */
describe('resuming the events of a finished conversation (Redis client)', () => {
  let runtime: InProcessRuntime;

  beforeAll(async () => {
    runtime = await startInProcess({
      label: 'resume',
      network: (url) => chainNetwork(url, 2, { maxHops: 1 }),
      rules: [
        { when: (req) => (lastUserText(req) ?? '').includes('hang'), reply: { content: 'late', hang: true } },
        { when: (req) => (lastUserText(req) ?? '').includes('hand off'), reply: { toolCalls: [{ name: 'transfer_to_A2', arguments: {} }] } },
        { reply: { content: 'done' } },
      ],
    });
  });
  afterAll(async () => runtime?.close());

  it('ends at once when resumed after the terminal event, from the compacted log', async () => {
    const handle = await runtime.client.start({ agent: 'A1', input: 'hello' });
    await handle.result({ timeoutMs: 10_000 });
    const all = await drain(handle.events());
    expect(all.at(-1)!.type).toBe('conversation.completed');
    expect(await runtime.redis.exists(`${runtime.prefix}:conv:{${handle.id}}:eventlog`)).toBe(1);
    expect(await drain(handle.events({ after: all.at(-1)!.id }))).toEqual([]);
    // Past the terminal event too.
    const [ms, seq] = all.at(-1)!.id.split('-');
    expect(await drain(handle.events({ after: `${ms}-${Number(seq) + 5}` }))).toEqual([]);
    expect(await drain(handle.events({ after: `${Number(ms) + 60_000}-0` }))).toEqual([]);
    // Resumed before it, the rest comes and the iteration ends.
    expect((await drain(handle.events({ after: all.at(-2)!.id }))).map((e) => e.type)).toEqual(['conversation.completed']);
  });

  it('ends when resumed after the last terminal event of a conversation continued after it completed', async () => {
    const handle = await runtime.client.start({ agent: 'A1', input: 'hello' });
    await handle.result({ timeoutMs: 10_000 });
    await handle.send('again');
    await handle.result({ timeoutMs: 10_000 });
    const first = await drain(handle.events());
    const second = await drain(handle.events({ after: first.at(-1)!.id }));
    expect(second.at(-1)!.type).toBe('conversation.completed');
    expect(await drain(handle.events({ after: second.at(-1)!.id }))).toEqual([]);
  });

  it('ends when resumed after the terminal event once the live stream is gone and the log has expired', async () => {
    const handle = await runtime.client.start({ agent: 'A1', input: 'hello' });
    await handle.result({ timeoutMs: 10_000 });
    const all = await drain(handle.events());
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await drain(handle.events({ after: all.at(-1)!.id }))).toEqual([]);
    await runtime.redis.del(`${runtime.prefix}:conv:{${handle.id}}:eventlog`);
    expect(await drain(handle.events({ after: all.at(-1)!.id }))).toEqual([]);
    expect((await drain(handle.events())).map((e) => e.type)).toEqual(['conversation.completed']);
  });

  it('ends when resumed after the terminal event of a failed and of a cancelled conversation', async () => {
    const failed = await runtime.client.start({ agent: 'A1', input: 'please hand off' });
    expect((await failed.result({ timeoutMs: 10_000 })).status).toBe('failed');
    const cancelled = await runtime.client.start({ agent: 'A1', input: 'hang' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await cancelled.cancel('enough');
    expect((await cancelled.result({ timeoutMs: 10_000 })).status).toBe('cancelled');
    for (const handle of [failed, cancelled]) {
      const all = await drain(handle.events());
      expect(all.at(-1)!.type).toMatch(/^conversation\.(failed|cancelled)$/);
      expect(await drain(handle.events({ after: all.at(-1)!.id }))).toEqual([]);
    }
  });
});
