import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createClient, type ConversationHandle, type RedisHandoffClient } from '@handoff/client';
import { TERMINAL_STATUSES, isHandoffError, keyLayout, newOperationId, type Message, type StoredEvent } from '@handoff/core';
import { EventLog } from '@handoff/redis';
import { startRedisFaultProxy, startScriptedModel, type ManagedProcess } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { startHandoff } from '../support/processes.js';
import { FAST_RECOVERY } from '../faults/support/deployment.js';
import { NO_STALL_NETWORK, NO_STALL_RULES } from '../faults/support/no-stall-model.js';

/** How long the soak runs, in seconds (`SOAK_SECONDS`, default 60). */
const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
/** Conversations driven at once. */
const USERS = Number(process.env.SOAK_USERS ?? 24);

type Outcome = 'applied' | 'refused' | 'unconfirmed';

/** What the soak did and saw, printed at the end. */
class Tally {
  readonly counts = new Map<string, number>();
  add(what: string): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }
  toString(): string {
    return [...this.counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v}`).join('\n');
  }
}

const pick = <T,>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The randomized crash-point run, for as long as asked: users start conversations and send
 * messages, approve or reject tool calls, cancel, and answer nested chats, from two "tabs" at once
 * sometimes, while worker processes and the gateway are SIGKILLed at random and the gateway's
 * Redis link is cut at random commands. Commands that were not confirmed are retried with the same
 * operation id. At the end every conversation must be ended or visibly waiting, with no history
 * entry twice, no hop applied twice, and every confirmed message exactly once in its history.
 *
 * `SOAK_SECONDS=600 pnpm soak`
 */
describe('soak: commands under worker and gateway kills and a flaky Redis link', () => {
  it(`runs ${SECONDS} s and checks every conversation`, async () => {
    const prefix = uniquePrefix('soak');
    const keys = keyLayout(prefix);
    const tally = new Tally();
    const model = await startScriptedModel({ rules: NO_STALL_RULES(400) });
    const proxy = await startRedisFaultProxy(redisUrl());
    const direct = { REDIS_URL: redisUrl(), HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' };
    const gatewayArgs = ['gateway', '--network', NO_STALL_NETWORK, ...FAST_RECOVERY, '--reconcile-after', '2000', '--reconcile-interval', '500'];
    const workerArgs = (agents: string) => ['worker', '--network', NO_STALL_NETWORK, ...FAST_RECOVERY, '--agents', agents, '--concurrency', '16'];
    const startGateway = () => startHandoff('gateway', gatewayArgs, { ...direct, REDIS_URL: proxy.url });
    const startWorker = (i: number) => startHandoff(`worker ${i}`, workerArgs(i % 2 === 0 ? 'Front,Primary,Clerk,Helper' : 'Front,Backup,Clerk,Helper,Primary'), direct);
    let gateway = await startGateway();
    const workers: ManagedProcess[] = await Promise.all([0, 1, 2].map(startWorker));
    const client: RedisHandoffClient = createClient({ redis: { url: redisUrl(), prefix }, commandTimeoutMs: 4_000 });
    const redis = new Redis(redisUrl());
    const conversations = new Map<string, { confirmedTexts: string[] }>();
    const deadline = Date.now() + SECONDS * 1000;
    let stop = false;

    /** Sends a command until it is confirmed or refused: an unconfirmed one is sent again under the same operation id. */
    const command = async (name: string, send: (operationId: string) => Promise<void>): Promise<Outcome> => {
      const operationId = newOperationId();
      for (let attempt = 0; attempt < 8; attempt++) {
        try {
          await send(operationId);
          tally.add(`${name} applied`);
          return 'applied';
        } catch (error) {
          if (isHandoffError(error) && error.code === 'TIMEOUT') {
            tally.add(`${name} unconfirmed, sent again with the same operation id`);
            continue;
          }
          tally.add(`${name} refused: ${isHandoffError(error) ? error.code : String(error)}`);
          return 'refused';
        }
      }
      return 'unconfirmed';
    };

    const settle = async (handle: ConversationHandle) => handle.result({ timeoutMs: 30_000 }).catch(() => null);

    /** One user: a random conversation, driven to its end. */
    const user = async (n: number) => {
      while (!stop && Date.now() < deadline) {
        const tag = `${n}-${newOperationId().slice(3, 9)}`;
        const kind = pick(['hello', 'clerk', 'refund', 'nest ask', 'cancel-me', 'primary', 'nest slow'] as const);
        let handle: ConversationHandle;
        try {
          handle = await client.start({ agent: 'Front', input: `${kind} ${tag}` });
        } catch (error) {
          tally.add(`start refused: ${isHandoffError(error) ? error.code : String(error)}`);
          await sleep(200);
          continue;
        }
        tally.add(`start ${kind}`);
        const state = { confirmedTexts: [] as string[] };
        conversations.set(handle.id, state);
        if (kind === 'cancel-me' || kind === 'nest slow') {
          await sleep(Math.random() * 1_000);
          await command('cancel', (operationId) => handle.cancel('soak', { operationId }));
          await settle(handle);
          continue;
        }
        if (kind === 'nest ask') {
          // The parent waits on its child, which waits for its user: answer the child.
          let childId: string | undefined;
          for (let waited = 0; waited < 15_000 && childId === undefined; waited += 200) {
            const { waiting } = await handle.status();
            if (waiting?.kind === 'child' && waiting.childAwaitingUser) childId = waiting.childId;
            else await sleep(200);
          }
          if (childId) await command('answer the nested chat', (operationId) => client.conversation(childId).send('done', { operationId }));
          else tally.add('nested chat not waiting for its user within 15 s');
          await settle(handle);
          continue;
        }
        const result = await settle(handle);
        if (!result) continue;
        if (result.status === 'awaiting_user' && result.waiting?.kind === 'approval') {
          const approved = Math.random() < 0.7;
          await command(approved ? 'approve' : 'reject', (operationId) => (approved ? handle.approve({ operationId }) : handle.reject({ operationId, reason: 'no' })));
        } else if (result.status === 'awaiting_user' || result.status === 'completed') {
          // Two tabs answer at once, sometimes.
          const tabs = Math.random() < 0.3 ? 2 : 1;
          await Promise.all(
            Array.from({ length: tabs }, async (_, t) => {
              const text = `reply ${t} of ${tag}`;
              if ((await command('message', (operationId) => handle.send(text, { operationId }))) === 'applied') state.confirmedTexts.push(text);
            }),
          );
        }
        await settle(handle);
      }
    };

    /** Chaos: workers and the gateway SIGKILLed and restarted, the gateway's Redis link cut at random commands. */
    const chaos = async () => {
      let round = 0;
      while (!stop && Date.now() < deadline) {
        await sleep(1_500 + Math.random() * 1_500);
        round++;
        if (round % 5 === 0) {
          gateway.kill('SIGKILL');
          await gateway.exited;
          tally.add('gateway killed');
          gateway = await startGateway();
        } else if (round % 2 === 0) {
          const index = Math.floor(Math.random() * workers.length);
          workers[index]!.kill('SIGKILL');
          await workers[index]!.exited;
          tally.add('worker killed');
          workers[index] = await startWorker(index);
        } else {
          proxy.resetCount();
          void proxy.injectAfter(1 + Math.floor(Math.random() * 40), 'cut').then((fired) => fired && tally.add('Redis link cut after a random command'));
        }
      }
    };

    try {
      await Promise.all([...Array.from({ length: USERS }, (_, n) => user(n)), chaos()]);
      stop = true;
      proxy.clearFault();
      // Let everything settle: every conversation ends or waits for its user.
      const settleBy = Date.now() + 60_000;
      const unsettled = async () => {
        const open: string[] = [];
        for (const id of conversations.keys()) {
          const status = await redis.hget(keys.conversation(id), 'status');
          if (status === 'running' || status === 'awaiting_child') open.push(id);
        }
        return open;
      };
      let open = await unsettled();
      while (open.length > 0 && Date.now() < settleBy) {
        // Parents waiting on a child that waits for its user are answered too.
        for (const id of open) {
          const record = await client.conversation(id).status().catch(() => null);
          if (record?.waiting?.kind === 'child' && record.waiting.childAwaitingUser) await client.conversation(record.waiting.childId).send('done').catch(() => undefined);
        }
        await sleep(1_000);
        open = await unsettled();
      }

      const problems: string[] = [];
      for (const [id, state] of conversations) {
        const record = await client.conversation(id).status().catch(() => null);
        if (!record) {
          problems.push(`${id}: no record`);
          continue;
        }
        tally.add(`ended ${record.status}`);
        if (!TERMINAL_STATUSES.has(record.status) && record.status !== 'awaiting_user') problems.push(`${id}: still ${record.status}`);
        if (record.status === 'awaiting_user' && !record.waiting) problems.push(`${id}: awaiting_user without saying what for`);
        const history = await redis.lrange(keys.history(id), 0, -1);
        const twice = history.filter((entry, i) => history.indexOf(entry) !== i);
        if (twice.length > 0) problems.push(`${id}: a history entry twice: ${twice[0]!.slice(0, 200)}`);
        if (history.length !== record.historyLength) problems.push(`${id}: history ${history.length} entries, record ${record.historyLength}`);
        const messages = history.map((m) => JSON.parse(m) as Message);
        for (const text of state.confirmedTexts) {
          const copies = messages.filter((m) => m.role === 'user' && m.content === text).length;
          if (copies !== 1) problems.push(`${id}: the confirmed message "${text}" is in the history ${copies} times`);
        }
        const events: StoredEvent[] = await new EventLog(redis, keys).read(id);
        const hops = events.filter((e) => e.type === 'agent.completed').map((e) => (e.type === 'agent.completed' ? e.hopId : ''));
        if (new Set(hops).size !== hops.length) problems.push(`${id}: a hop applied twice`);
      }
      console.log(`[soak] ${SECONDS} s, ${conversations.size} conversations, ${USERS} users\n${tally}\n${problems.length} problems${problems.length ? `:\n${problems.slice(0, 40).join('\n')}` : ''}`);
      expect(conversations.size).toBeGreaterThan(0);
      expect(problems).toEqual([]);
    } finally {
      stop = true;
      await client.close();
      redis.disconnect();
      await Promise.all([gateway, ...workers].filter((p) => p.running).map((p) => p.stop(3_000)));
      await proxy.close();
      await model.close();
    }
  }, (SECONDS + 180) * 1000);
});
