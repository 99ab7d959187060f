import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, agentQueueName, childReportJobId, commandJobId, hopId, hopJobId, newOperationId, to, turnResultJobId, type CoordinatorJob } from '@handoff/core';
import { startRedisFaultProxy, type RedisFaultMode, type RedisFaultProxy } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { coordinatorQueueNameOf } from '../support/queues.js';
import {
  CrashHarness,
  countEvents,
  expectApplied,
  expectEqual,
  startCommand,
  started,
  turnResult,
  type CrashRun,
  type CrashScenario,
} from './support/crash-points.js';

/** A command job for a conversation, as a client sends it. */
function command(kind: 'user_message' | 'approval' | 'cancel', id: string, fields: Record<string, unknown>): { payload: CoordinatorJob; jobId: string } {
  const operationId = newOperationId();
  return { payload: { schemaVersion: SCHEMA_VERSION, kind, conversationId: id, operationId, createdAt: Date.now(), ...fields } as CoordinatorJob, jobId: commandJobId(id, kind, operationId) };
}

/** Every command kind's path, each from a fresh conversation in the state it needs. */
const SCENARIOS: CrashScenario[] = [
  {
    name: 'start',
    prepare: (h, id) => startCommand(h, id),
    storedCopy: true,
    async verify(h, id) {
      const record = await h.record(id);
      return [
        ...expectEqual('status', record?.status, 'running'),
        ...expectEqual('conversation.started events', await countEvents(h, id, 'conversation.started'), 1),
        ...expectEqual('hop 1 on A', await h.jobState(agentQueueName('A'), hopJobId(hopId(id, 1), record?.epoch)), 'waiting'),
        ...expectEqual('starting mark', await h.redis.exists(h.keys.starting(id)), 0),
        ...expectEqual('in flight', (await h.redis.zscore(h.keys.inFlight, id)) !== null, true),
      ];
    },
  },
  {
    name: 'turn',
    async prepare(h, id) {
      const record = await started(h, id);
      const turn = turnResult(record, 1, 'A', { type: 'handoff', target: { type: 'agent', agent: 'B' }, reason: 'over to B', source: 'llm_condition' });
      return { payload: turn, jobId: turnResultJobId(turn.hopId, record.epoch) };
    },
    async verify(h, id) {
      const record = await h.record(id);
      return [
        ...expectEqual('applied seq', record?.appliedSeq, 1),
        ...expectEqual('handoff events', await countEvents(h, id, 'handoff'), 1),
        ...expectEqual('hop 2 on B', await h.jobState(agentQueueName('B'), hopJobId(hopId(id, 2), record?.epoch)), 'waiting'),
      ];
    },
  },
  {
    name: 'user_message',
    async prepare(h, id) {
      const record = await started(h, id);
      await h.deliver(turnResult(record, 1, 'A', { type: 'final', output: 'first answer' }));
      const completed = (await h.record(id))!;
      return command('user_message', id, { message: `a follow-up for ${id}`, expectedVersion: completed.version });
    },
    async verify(h, id, payload) {
      const record = await h.record(id);
      const history = (await h.redis.lrange(h.keys.history(id), 0, -1)).map((m) => JSON.parse(m));
      return [
        ...(await expectApplied(h, id, payload)),
        ...expectEqual('status', record?.status, 'running'),
        ...expectEqual('user.message events', await countEvents(h, id, 'user.message'), 1),
        ...expectEqual('the follow-up in the history', history.filter((m) => m.content === `a follow-up for ${id}`).length, 1),
        ...expectEqual('hop 2 on A', await h.jobState(agentQueueName('A'), hopJobId(hopId(id, 2), record?.epoch)), 'waiting'),
      ];
    },
  },
  {
    name: 'approval',
    async prepare(h, id) {
      const record = await started(h, id);
      const asking = { role: 'assistant' as const, content: null, tool_calls: [{ id: `call_${id}`, type: 'function' as const, function: { name: 'refund', arguments: '{"amount":5}' } }] };
      await h.deliver(turnResult(record, 1, 'A', { type: 'approval', calls: [{ toolCallId: `call_${id}`, name: 'refund', arguments: '{"amount":5}' }] }, asking));
      return command('approval', id, { decisions: [{ toolCallId: `call_${id}`, approved: true }] });
    },
    async verify(h, id, payload) {
      const record = await h.record(id);
      const hop = await h.jobData(agentQueueName('A'), hopJobId(hopId(id, 2), record?.epoch));
      return [
        ...(await expectApplied(h, id, payload)),
        ...expectEqual('status', record?.status, 'running'),
        ...expectEqual('approval.decided events', await countEvents(h, id, 'approval.decided'), 1),
        ...expectEqual('hop 2 resumes with the approval', (hop as { resume?: unknown } | undefined)?.resume, { approvals: { [`call_${id}`]: { approved: true } }, callsHopId: hopId(id, 1) }),
      ];
    },
  },
  {
    name: 'cancel',
    async prepare(h, id) {
      const record = await started(h, id);
      await h.deliver(turnResult(record, 1, 'A', { type: 'handoff', target: { type: 'agent', agent: 'B' }, reason: 'over to B', source: 'llm_condition' }));
      return command('cancel', id, { reason: 'changed my mind' });
    },
    async verify(h, id, payload) {
      const record = await h.record(id);
      return [
        ...(await expectApplied(h, id, payload)),
        ...expectEqual('status', record?.status, 'cancelled'),
        ...expectEqual('conversation.cancelled events', await countEvents(h, id, 'conversation.cancelled'), 1),
        ...expectEqual('hop 2 left B\'s queue', await h.jobState(agentQueueName('B'), hopJobId(hopId(id, 2), record?.epoch)), 'unknown'),
        ...expectEqual('in flight', await h.redis.zscore(h.keys.inFlight, id), null),
      ];
    },
  },
  {
    name: 'cancel_before_start',
    async prepare(h, id) {
      // The start is queued (the client set its mark) but not applied yet.
      await h.redis.set(h.keys.starting(id), 'op_queued', 'EX', 3600);
      return command('cancel', id, {});
    },
    async verify(h, id, payload) {
      // Then the start arrives: it finds the conversation cancelled and starts nothing.
      const start = await startCommand(h, id);
      await h.deliver(start.payload, start.jobId);
      const record = await h.record(id);
      return [
        ...(await expectApplied(h, id, payload)),
        ...expectEqual('status', record?.status, 'cancelled'),
        ...expectEqual('hop 1 never published', await h.jobState(agentQueueName('A'), hopJobId(hopId(id, 1), record?.epoch)), 'unknown'),
      ];
    },
  },
  {
    name: 'child_done',
    async prepare(h, id) {
      const record = await started(h, id);
      await h.deliver(turnResult(record, 1, 'A', { type: 'handoff', target: to.nestedChat([{ agent: 'B' }]), reason: 'ask B', source: 'tool' }));
      const parent = (await h.record(id))!;
      const childId = parent.waiting?.kind === 'child' ? parent.waiting.childId : '';
      const child = (await h.record(childId))!;
      await h.deliver(turnResult(child, 1, 'B', { type: 'final', output: `B's findings for ${id}` }));
      const ended = (await h.record(childId))!;
      const jobId = childReportJobId(childId, ended.epoch, ended.version);
      const payload = (await h.jobData(coordinatorQueueNameOf(id), jobId)) as CoordinatorJob;
      return { payload, jobId };
    },
    async verify(h, id) {
      const record = await h.record(id);
      const history = (await h.redis.lrange(h.keys.history(id), 0, -1)).map((m) => JSON.parse(m));
      return [
        ...expectEqual('status', record?.status, 'running'),
        ...expectEqual('nested.completed events', await countEvents(h, id, 'nested.completed'), 1),
        ...expectEqual('the summary in the history', history.filter((m) => m.name === 'nested_chat').length, 1),
        ...expectEqual('hop 2 on A (the caller)', await h.jobState(agentQueueName('A'), hopJobId(hopId(id, 2), record?.epoch)), 'waiting'),
      ];
    },
  },
];

/**
 * Crash-point injection: every command kind's path, run against a Redis proxy that — after the
 * k-th Redis command, for every k of the path — either cuts the connection after Redis ran the
 * command (its reply is lost; ioredis re-sends it) or freezes the link for good (the gateway
 * process dies there; a fresh one gets the job again). After each run, with the recovery a
 * deployment gives (redelivery, one reconciler round), the conversation must be ended or visibly
 * waiting, with no history entry twice, no hop applied twice, and the accepted command applied.
 */
describe('crash points of every command path', () => {
  let proxy: RedisFaultProxy;
  let harness: CrashHarness;
  const runs: CrashRun[] = [];

  beforeAll(async () => {
    proxy = await startRedisFaultProxy(redisUrl());
    harness = new CrashHarness(redisUrl(), uniquePrefix('crash'), proxy);
    await harness.start();
  });
  afterAll(async () => {
    // What was checked, for the record.
    const byScenario = new Map<string, number>();
    for (const run of runs) if (run.fired) byScenario.set(`${run.scenario}/${run.mode}`, (byScenario.get(`${run.scenario}/${run.mode}`) ?? 0) + 1);
    console.log(`crash points checked: ${[...byScenario].map(([name, n]) => `${name} ${n}`).join(', ')}`);
    await harness?.close();
    await proxy?.close();
  });

  for (const scenario of SCENARIOS) {
    for (const mode of ['cut', 'freeze'] as RedisFaultMode[]) {
      it(`${scenario.name}: ${mode === 'cut' ? 'a lost reply' : 'the gateway dying'} after each of its Redis commands`, async () => {
        let k = 1;
        for (; k <= 80; k++) {
          const run = await harness.run(scenario, mode, k);
          runs.push(run);
          if (!run.fired) break;
          expect(run.problems, `${scenario.name}, ${mode} after command ${k} (${run.at})`).toEqual([]);
        }
        // The whole path was covered: some k was past its last command.
        expect(k).toBeGreaterThan(2);
        expect(k).toBeLessThanOrEqual(80);
      }, 120_000);
    }
    it(`${scenario.name}: the gateway dying after each of its Redis commands, its job never delivered again: the reconciler alone leaves nothing stalled`, async () => {
      let k = 1;
      for (; k <= 80; k++) {
        const run = await harness.run(scenario, 'freeze', k, { redeliver: false });
        runs.push({ ...run, scenario: `${scenario.name} (no redelivery)` });
        if (!run.fired) break;
        expect(run.problems, `${scenario.name}, freeze after command ${k} (${run.at}), no redelivery`).toEqual([]);
      }
      expect(k).toBeGreaterThan(2);
    }, 120_000);
  }
});
