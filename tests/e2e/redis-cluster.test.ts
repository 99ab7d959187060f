import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@handoff/client';
import { ManagedProcess, startScriptedModel, type ScriptedModel } from '@handoff/testing';
import { englishSpanishRules } from '@handoff/examples/dist/english-spanish/scripted-model.js';
import { HANDOFF_BIN, REPO_ROOT, startHandoff } from '../support/processes.js';
import { startRedisCluster, type LocalRedisCluster } from '../support/redis-cluster.js';
import { RELAY_MODULE } from '../faults/support/deployment.js';
import { readEffects } from '../faults/support/effects.js';
import { relayInput, relayRules } from '../faults/support/relay.js';

const NETWORK = 'examples/dist/english-spanish/network.js';
const CONVERSATIONS = 240;

/**
 * Handoff on a three-master Redis Cluster, a replica per master, with a plain prefix: each conversation's keys share its
 * id as hash tag, each queue has its own hash-tagged prefix, the coordinator queue is partitioned
 * — so one deployment spreads over every master, and no command ever spans two slots.
 */
describe('Redis Cluster', () => {
  let cluster: LocalRedisCluster;
  let model: ScriptedModel;

  beforeAll(async () => {
    // Three masters, each with a replica (as a managed cluster runs): six redis-server processes.
    cluster = await startRedisCluster(3, 1);
    model = await startScriptedModel({ rules: [...englishSpanishRules, ...relayRules()] });
  }, 60_000);
  afterAll(async () => {
    await model?.close();
    await cluster?.stop();
  });

  const env = (extra: Record<string, string>) => ({ OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test', LOG_LEVEL: 'warn', REDIS_URL: cluster.url, HANDOFF_REDIS_CLUSTER: '1', ...extra });
  const handoff = async (args: string[], extra: Record<string, string>) => {
    const child = await ManagedProcess.start({ name: `handoff ${args[0]}`, command: process.execPath, args: [HANDOFF_BIN, ...args], cwd: REPO_ROOT, env: env(extra) });
    const exit = await child.exited;
    return { code: exit.code, out: child.lines.join('\n') };
  };

  /** Every key of the deployment, by the master that holds it. */
  async function keysByMaster(prefix: string): Promise<Map<number, string[]>> {
    const byMaster = new Map<number, string[]>();
    for (const node of cluster.masters) {
      const connection = new Redis(node.url);
      try {
        byMaster.set(node.port, await connection.keys(`${prefix}:*`));
      } finally {
        connection.disconnect();
      }
    }
    return byMaster;
  }

  it(`spreads ${CONVERSATIONS} conversations over six agents across every master, without a CROSSSLOT`, async () => {
    const prefix = 'hf-spread';
    // Every third conversation's first agent calls a tool first: its turn is journaled (scripts in the conversation's slot).
    const dir = mkdtempSync(join(tmpdir(), 'handoff-cluster-'));
    const effectsFile = join(dir, 'effects.jsonl');
    const processes = await Promise.all([
      startHandoff('gateway', ['gateway', '--network', RELAY_MODULE], env({ HANDOFF_PREFIX: prefix, LOG_LEVEL: 'info' })),
      startHandoff('worker', ['worker', '--network', RELAY_MODULE, '--concurrency', '32'], env({ HANDOFF_PREFIX: prefix, LOG_LEVEL: 'info', HANDOFF_TEST_EFFECTS_FILE: effectsFile })),
    ]);
    const client = createClient({ redis: { url: cluster.url, prefix, cluster: true } });
    try {
      const handles = await Promise.all(Array.from({ length: CONVERSATIONS }, (_, i) => client.start({ agent: 'R1', input: relayInput(`s${i}`, 2 + (i % 5), i % 3 === 0 ? { holdMs: 0 } : undefined) })));
      const results = await Promise.all(handles.map((h) => h.result({ timeoutMs: 60_000 })));
      expect(results.filter((r) => r.status !== 'completed')).toEqual([]);
      const effects = readEffects(effectsFile).filter((e) => e.kind === 'effect');
      expect(effects.length).toBe(CONVERSATIONS / 3);
      expect(new Set(effects.map((e) => e.conversationId)).size).toBe(CONVERSATIONS / 3);

      const byMaster = await keysByMaster(prefix);
      const total = [...byMaster.values()].reduce((sum, keys) => sum + keys.length, 0);
      expect(byMaster.size).toBe(3);
      for (const [port, keys] of byMaster) expect(keys.length / total, `master ${port} holds ${keys.length} of ${total} keys`).toBeGreaterThanOrEqual(0.2);
      // Queues: the agents' and the coordinator's partitions are spread too (not all on one master).
      const queueMasters = [...byMaster].filter(([, keys]) => keys.some((key) => key.startsWith(`${prefix}:{agent.`) || key.startsWith(`${prefix}:{coordinator.`)));
      expect(queueMasters.length).toBeGreaterThanOrEqual(2);
      // Every replica holds what its master holds (scripts replicate like any write).
      for (const { node, masterPort } of cluster.replicas) {
        const keysOf = async (port: number) => {
          const connection = new Redis(port);
          try {
            return (await connection.keys(`${prefix}:*`)).sort();
          } finally {
            connection.disconnect();
          }
        };
        let replicaKeys: string[] = [];
        let masterKeys: string[] = [];
        for (let i = 0; i < 100; i++) {
          [replicaKeys, masterKeys] = await Promise.all([keysOf(node.port), keysOf(masterPort)]);
          if (replicaKeys.join() === masterKeys.join()) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(replicaKeys.length, `replica ${node.port} of ${masterPort}`).toBeGreaterThan(0);
        expect(replicaKeys, `replica ${node.port} of ${masterPort}`).toEqual(masterKeys);
      }
      // Scripts ran on every master (the apply script and BullMQ's), and none was refused for spanning slots.
      for (const node of cluster.masters) {
        const connection = new Redis(node.url);
        try {
          const stats = await connection.info('commandstats');
          const evalsha = Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
          expect(evalsha, `scripts on master ${node.port}`).toBeGreaterThan(CONVERSATIONS / 10);
          expect(Number(/errorstat_CROSSSLOT:count=(\d+)/.exec(await connection.info('errorstats'))?.[1] ?? 0), `CROSSSLOT errors on ${node.port}`).toBe(0);
        } finally {
          connection.disconnect();
        }
      }
      for (const process of processes) expect(process.lines.join('\n')).not.toMatch(/CROSSSLOT/);
    } finally {
      await client.close();
      await Promise.all(processes.map((p) => p.stop(3_000)));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('runs a conversation with `handoff run`, flags and environment alike', async () => {
    const { code, out } = await handoff(['run', '--network', NETWORK, '¿cuanto es 2+2?'], { HANDOFF_PREFIX: 'hf-cluster' });
    expect(code, out).toBe(0);
    expect(out).toMatch(/answer {2}2 \+ 2 son 4\./);
    const id = /conversation (c_\w+)/.exec(out)![1]!;
    const inspected = await handoff(['inspect', id, '--redis-cluster', '--prefix', 'hf-cluster'], { HANDOFF_REDIS_CLUSTER: '' });
    expect(inspected.out).toMatch(/status {3}completed \(final_output\)/);
  });

  it('still runs with a hash-tagged prefix, every key then in the slot of the tag', async () => {
    const { code, out } = await handoff(['run', '--network', NETWORK, '¿cuanto es 2+2?'], { HANDOFF_PREFIX: '{hf-one-slot}' });
    expect(code, out).toBe(0);
    const client = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]!.port }]);
    try {
      const slot = await client.cluster('KEYSLOT', '{hf-one-slot}');
      const keys = [...(await keysByMaster('{hf-one-slot}')).values()].flat();
      expect(keys.length).toBeGreaterThan(5);
      expect(await Promise.all(keys.map((key) => client.cluster('KEYSLOT', key)))).toEqual(keys.map(() => slot));
    } finally {
      client.disconnect();
    }
  });
});
