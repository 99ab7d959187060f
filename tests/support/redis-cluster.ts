import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisServerProcess } from '@handoff/testing';

/** A Redis Cluster of local redis-server processes, for tests. */
export interface LocalRedisCluster {
  /** Every node, masters and replicas. */
  nodes: RedisServerProcess[];
  /** The masters (they hold the slots). */
  masters: RedisServerProcess[];
  /** The replicas, each with the port of its master. */
  replicas: { node: RedisServerProcess; masterPort: number }[];
  /** `redis://127.0.0.1:<port>` of the first node (a seed; the others are discovered). */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `masters × (1 + replicasPerMaster)` cluster-enabled redis-server processes, joins them
 * with `redis-cli --cluster create` (slots split evenly over the masters) and waits until every
 * node reports `cluster_state:ok` and every replica's link to its master is up.
 */
export async function startRedisCluster(masters = 3, replicasPerMaster = 0): Promise<LocalRedisCluster> {
  const nodes = Array.from({ length: masters * (1 + replicasPerMaster) }, () => new RedisServerProcess({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'] }));
  const stop = async () => void (await Promise.all(nodes.map((node) => node.stop())));
  try {
    await Promise.all(nodes.map((node) => node.start()));
    execFileSync('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'], { stdio: 'pipe' });
    for (const node of nodes) {
      const connection = new Redis(node.url);
      try {
        for (let i = 0; ; i++) {
          if (/cluster_state:ok/.test(await connection.cluster('INFO'))) break;
          if (i > 200) throw new Error(`cluster node ${node.url} did not reach cluster_state:ok`);
          await sleep(50);
        }
      } finally {
        connection.disconnect();
      }
    }
    const roles = await Promise.all(nodes.map((node) => roleOf(node)));
    const replicas = nodes.flatMap((node, i) => (roles[i]!.role === 'slave' ? [{ node, masterPort: roles[i]!.masterPort! }] : []));
    const masterNodes = nodes.filter((_, i) => roles[i]!.role === 'master');
    if (masterNodes.length !== masters) throw new Error(`expected ${masters} masters, found ${masterNodes.length}`);
    return { nodes, masters: masterNodes, replicas, url: masterNodes[0]!.url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A node's role, once a replica's link to its master is up. */
async function roleOf(node: RedisServerProcess): Promise<{ role: string; masterPort?: number }> {
  const connection = new Redis(node.url);
  try {
    for (let i = 0; ; i++) {
      const info = await connection.info('replication');
      const role = /role:(\w+)/.exec(info)?.[1] ?? '?';
      if (role === 'master') return { role };
      if (role === 'slave' && /master_link_status:up/.test(info)) return { role, masterPort: Number(/master_port:(\d+)/.exec(info)?.[1]) };
      if (i > 400) throw new Error(`cluster node ${node.url}: replica link never came up`);
      await sleep(50);
    }
  } finally {
    connection.disconnect();
  }
}
