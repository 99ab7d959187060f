import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import network from '@handoff/examples/dist/routing-strategies/network.js';
import { routingRules } from '@handoff/examples/dist/routing-strategies/scripted-model.js';
import { startScriptedModel, type ScriptedModel } from '@handoff/testing';
import { createClient, type HandoffClient } from '@handoff/client';
import { startGateway, type Gateway } from '@handoff/gateway';
import { startWorkers, type WorkerGroup } from '@handoff/worker';
import pino from 'pino';
import { redisUrl, uniquePrefix } from '../support/env.js';

/** The seed's four strategies — round robin, load based, capability based, resilient fallback — in one example network. */
describe('the routing-strategies example', () => {
  const prefix = uniquePrefix('strategies');
  let model: ScriptedModel;
  let gateway: Gateway;
  let workers: WorkerGroup;
  let client: HandoffClient;
  const saved = { ...process.env };

  beforeAll(async () => {
    model = await startScriptedModel({ rules: routingRules });
    // The example reads its endpoint from the openai client's environment, as a deployment would.
    process.env.OPENAI_BASE_URL = model.url;
    process.env.OPENAI_API_KEY = 'test';
    const logger = pino({ level: 'silent' });
    gateway = await startGateway({ network, redis: { url: redisUrl(), prefix }, logger });
    workers = await startWorkers({ network, redis: { url: redisUrl(), prefix }, logger });
    await Promise.all([gateway.waitUntilReady(), workers.waitUntilReady()]);
    client = createClient({ redis: { url: redisUrl(), prefix } });
  });
  afterAll(async () => {
    await client.close();
    await Promise.all([workers.close(), gateway.close()]);
    await model.close();
    process.env = saved;
  });

  const ask = async (input: string) => (await client.start({ input })).result({ timeoutMs: 15_000 });

  it('round-robin handoff: the writers take turns', async () => {
    const agents: (string | null)[] = [];
    for (let i = 0; i < 3; i++) agents.push((await ask(`write an email ${i}`)).agent);
    expect([...agents].sort()).toEqual(['Writer1', 'Writer2', 'Writer3']);
  });

  it('load-based handoff: an analyst with the least work', async () => {
    expect(['Analyst1', 'Analyst2']).toContain((await ask('analyze this report')).agent);
  });

  it('capability-based handoff: the specialist for the required capability, else the default', async () => {
    expect((await ask('a programming question about code')).agent).toBe('CodeSpecialist');
    expect((await ask('a technical question about sql')).agent).toBe('DatabaseSpecialist');
    expect((await ask('a technical question about networks')).agent).toBe('Generalist');
  });

  it('resilient fallback: the primary fails, its fallback answers', async () => {
    const result = await ask('hello there');
    expect(result).toMatchObject({ status: 'completed', agent: 'Fallback1', path: ['FrontDesk', 'Primary', 'Fallback1'] });
  });
});
