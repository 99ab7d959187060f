import type { TestProject } from 'vitest/node';
import { startRedis } from '@handoff/testing';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Redis every test of this run uses (each test under its own key prefix). */
    redisUrl: string;
  }
}

/**
 * Starts one real Redis for the whole run — testcontainers when a container engine answers, else
 * a redis-server process, else REDIS_URL — and says which was used.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await startRedis({ log: (line) => console.warn(`[redis] ${line}`) });
  console.info(`[redis] tests use ${redis.provider} Redis at ${redis.url}`);
  project.provide('redisUrl', redis.url);
  return () => redis.stop();
}
