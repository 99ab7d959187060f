import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisServerProcess } from '@handoff/testing';

/** A Redis Cluster of local redis-server processes (masters only), for tests. */
export interface LocalRedisCluster {
  nodes: RedisServerProcess[];
  /** `redis://127.0.0.1:<port>` of the first node (a seed; the others are discovered). */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `size` cluster-enabled redis-server processes, joins them with `redis-cli --cluster
 * create` (slots split evenly, no replicas) and waits until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(size = 3): Promise<LocalRedisCluster> {
  const nodes = Array.from({ length: size }, () => new RedisServerProcess({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'] }));
  const stop = async () => void (await Promise.all(nodes.map((node) => node.stop())));
  try {
    await Promise.all(nodes.map((node) => node.start()));
    execFileSync('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'pipe' });
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
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, url: nodes[0]!.url, stop };
}
