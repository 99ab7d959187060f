import { afterAll, describe, expect, it } from 'vitest';
import { RedisServerProcess, startScriptedModel, type ManagedProcess, type ScriptedModel } from '@handoff/testing';
import { uniquePrefix } from '../support/env.js';
import { startHandoff } from '../support/processes.js';
import { NO_STALL_NETWORK, NO_STALL_RULES } from './support/no-stall-model.js';

/**
 * A gateway and a worker that are running when their Redis goes away must still stop on SIGTERM
 * (a container stop, a rollout): what they would write on the way out cannot be written, so past
 * the drain timeout plus a margin they give up and exit, saying why.
 */
describe('SIGTERM after Redis went away', () => {
  let server: RedisServerProcess;
  let model: ScriptedModel;
  let processes: ManagedProcess[] = [];

  afterAll(async () => {
    await Promise.all(processes.filter((p) => p.running).map((p) => p.stop(1_000)));
    await model?.close();
    await server?.stop();
  });

  it('a running gateway and worker exit within the drain timeout plus the margin', async () => {
    server = new RedisServerProcess({ args: ['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'] });
    await server.start();
    model = await startScriptedModel({ rules: NO_STALL_RULES() });
    const env = { REDIS_URL: server.url, HANDOFF_PREFIX: uniquePrefix('sigterm'), OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' };
    processes = await Promise.all([
      startHandoff('gateway', ['gateway', '--network', NO_STALL_NETWORK, '--drain-timeout', '500'], env),
      startHandoff('worker', ['worker', '--network', NO_STALL_NETWORK, '--drain-timeout', '500'], env),
    ]);
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const signalled = Date.now();
    for (const p of processes) p.kill('SIGTERM');
    const exits = await Promise.all(processes.map((p) => Promise.race([p.exited, new Promise<'hung'>((resolve) => setTimeout(resolve, 25_000, 'hung'))])));
    expect(exits.map((e) => (e === 'hung' ? 'hung' : 'exited'))).toEqual(['exited', 'exited']);
    // 0.5 s of drain and the 10 s margin at most, with room for a loaded machine.
    expect(Date.now() - signalled).toBeLessThan(20_000);
  }, 60_000);
});
