import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_STALLED_COUNT, defineNetwork, hopJobId, keyLayout } from '@handoff/core';
import { QueueSet, STALLED_REASON, listDeadLetters } from '@handoff/redis';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';
import { call, scriptedAgent, when } from '../support/scripted-agents.js';
import { openLane } from '../support/queues.js';

/**
 * A hop that fails for good in its agent's lane — here, one whose worker keeps dying with it, past
 * the stall limit — is swept by the gateway: the conversation goes to the agent's fallback, or,
 * without one, ends with HOP_FAILED; the hop is a dead letter and leaves the lane.
 */
describe('a hop that fails for good', () => {
  let rt: InProcessRuntime;

  beforeAll(async () => {
    rt = await startInProcess({
      label: 'hop-failure',
      // Flaky and Doomed have no worker here: their hops wait in their lanes, where the test plays a worker that keeps dying.
      agents: ['Front', 'Backup'],
      network: (url) =>
        defineNetwork({
          name: 'hop-failure',
          agents: [
            scriptedAgent(url, 'Front', { handoffs: ['Flaky'] }),
            scriptedAgent(url, 'Flaky', { fallbacks: ['Backup'] }),
            scriptedAgent(url, 'Backup'),
            scriptedAgent(url, 'Doomed'),
          ],
        }),
      rules: [when('Front', call('transfer_to_Flaky', { reason: 'flaky please' })), when('Backup', { content: 'Backup answers.' })],
    });
  }, 60_000);
  afterAll(async () => {
    await rt?.close();
  });

  /** Heartbeats for an agent with no worker, so that routing sends hops to it (as within a dead worker's heartbeat lifetime). */
  const pretendAlive = (agent: string) => rt.redis.zadd(keyLayout(rt.prefix).workers(agent), Date.now() + 120_000, `pretend-${agent}`);

  /** Once the conversation's pending hop is on `agent`, plays a worker that takes it and dies with it, one time more than the stall limit allows. @returns the hop's id in the lane. */
  async function stallPendingHop(conversation: { status(): Promise<{ next?: { agent: string; hopId: string } | null; epoch?: string }> }, agent: string): Promise<string> {
    for (let i = 0; i < 200 && (await conversation.status()).next?.agent !== agent; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    const { next, epoch } = await conversation.status();
    const id = hopJobId(next!.hopId, epoch);
    const lane = openLane(agent, rt.redis, rt.prefix);
    for (let stall = 1; stall <= DEFAULT_MAX_STALLED_COUNT + 1; stall++) {
      const deadline = Date.now() + 10_000;
      while ((await lane.take(`dying-${stall}`, 1, 1)).hops.length === 0) {
        if (Date.now() > deadline) throw new Error(`hop ${id} never waited in ${agent}'s lane (stall ${stall})`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      await lane.reclaim(DEFAULT_MAX_STALLED_COUNT);
    }
    expect(await lane.state(id)).toMatch(/^(failed|unknown)$/); // failed, or already swept
    return id;
  }

  /** The sweep removes the failed hop right after the conversation moved on: the lane ends empty. */
  async function emptied(agent: string): Promise<void> {
    const lane = openLane(agent, rt.redis, rt.prefix);
    const empty = { waiting: 0, active: 0, retrying: 0, failed: 0 };
    for (let i = 0; i < 100 && JSON.stringify(await lane.counts()) !== JSON.stringify(empty); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await lane.counts()).toEqual(empty);
  }

  it('goes to the agent\'s fallback, and is a dead letter', async () => {
    await pretendAlive('Flaky');
    const conversation = await rt.client.start({ agent: 'Front', input: 'flaky please' });
    const id = await stallPendingHop(conversation, 'Flaky');

    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result).toMatchObject({ status: 'completed', output: 'Backup answers.', agent: 'Backup' });
    const letters = await listDeadLetters(new QueueSet(rt.redis, rt.prefix));
    expect(letters.find((l) => l.jobId === id)).toMatchObject({ sourceQueue: 'agent.Flaky', conversationId: conversation.id, error: { code: 'HOP_FAILED', message: expect.stringContaining(STALLED_REASON) } });
    await emptied('Flaky');
  });

  it('without a fallback, ends its conversation with HOP_FAILED', async () => {
    await pretendAlive('Doomed');
    const conversation = await rt.client.start({ agent: 'Doomed', input: 'are you there?' });
    await stallPendingHop(conversation, 'Doomed');

    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'HOP_FAILED' } });
    expect(result.error?.message).toContain(STALLED_REASON);
    await emptied('Doomed');
  });
});
