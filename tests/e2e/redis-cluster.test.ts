import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedProcess, startScriptedModel, type ScriptedModel } from '@handoff/testing';
import { englishSpanishRules } from '@handoff/examples/dist/english-spanish/scripted-model.js';
import { HANDOFF_BIN, REPO_ROOT } from '../support/processes.js';
import { startRedisCluster, type LocalRedisCluster } from '../support/redis-cluster.js';

const NETWORK = 'examples/dist/english-spanish/network.js';

/**
 * Handoff on a three-master Redis Cluster: the hash-tagged prefix puts the whole deployment in
 * one slot, so the runtime's multi-key scripts and BullMQ's work unchanged.
 */
describe('Redis Cluster', () => {
  let cluster: LocalRedisCluster;
  let model: ScriptedModel;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    model = await startScriptedModel({ rules: englishSpanishRules });
  }, 60_000);
  afterAll(async () => {
    await model?.close();
    await cluster?.stop();
  });

  const handoff = async (args: string[], env: Record<string, string>) => {
    const child = await ManagedProcess.start({
      name: `handoff ${args[0]}`,
      command: process.execPath,
      args: [HANDOFF_BIN, ...args],
      cwd: REPO_ROOT,
      env: { OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test', LOG_LEVEL: 'warn', REDIS_URL: cluster.url, HANDOFF_REDIS_CLUSTER: '1', ...env },
    });
    const exit = await child.exited;
    return { code: exit.code, out: child.lines.join('\n') };
  };

  it('runs a conversation with every key in the slot of the prefix', async () => {
    const { code, out } = await handoff(['run', '--network', NETWORK, '¿cuanto es 2+2?'], { HANDOFF_PREFIX: '{hf-cluster}' });
    expect(code, out).toBe(0);
    expect(out).toMatch(/answer {2}2 \+ 2 son 4\./);
    // The flags say the same as the environment.
    const id = /conversation (c_\w+)/.exec(out)![1]!;
    const inspected = await handoff(['inspect', id, '--redis-cluster', '--prefix', '{hf-cluster}'], { HANDOFF_REDIS_CLUSTER: '' });
    expect(inspected.out).toMatch(/status {3}completed \(final_output\)/);

    const client = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]!.port }]);
    try {
      const slot = await client.cluster('KEYSLOT', '{hf-cluster}');
      const owner = client.nodes('master').find((node) => node.options.port === ownerPort(client, slot));
      expect(owner).toBeDefined();
      const keys = await owner!.keys('{hf-cluster}*');
      expect(keys.length).toBeGreaterThan(5);
      expect(await Promise.all(keys.map((key) => client.cluster('KEYSLOT', key)))).toEqual(keys.map(() => slot));
    } finally {
      client.disconnect();
    }
  });

  it('refuses a prefix without a hash tag, naming the fix', async () => {
    const { code, out } = await handoff(['run', '--network', NETWORK, 'hello'], { HANDOFF_PREFIX: 'plain' });
    expect(code).toBe(2);
    expect(out).toMatch(/UNSAFE_REDIS_CONFIG: Redis Cluster needs a hash-tagged prefix, such as "\{plain\}"/);
  });
});

/** The port of the master that serves a slot, from the cluster client's slot table. */
function ownerPort(client: Cluster, slot: number): number | undefined {
  const [address] = client.slots[slot] ?? [];
  return address === undefined ? undefined : Number(address.split(':').at(-1));
}
