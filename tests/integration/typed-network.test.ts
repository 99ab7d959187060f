import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import pino from 'pino';
import { createClient, createHttpClient, type RedisHandoffClient } from '@handoff/client';
import { ErrorCode, InvalidContextError, defineAgent, defineNetwork, defineTool, isHandoffError } from '@handoff/core';
import { startGateway, type Gateway } from '@handoff/gateway';
import { lastUserText, startScriptedModel, systemText, type ScriptedModel } from '@handoff/testing';
import { startWorkers, type WorkerGroup } from '@handoff/worker';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { by } from '../support/scripted-agents.js';

const Context = z.object({
  userId: z.number().int(),
  tier: z.enum(['free', 'pro']).default('free'),
  address: z.object({ country: z.string().length(2) }).optional(),
  // Applied once per start: the clients check the context, the coordinator keeps the schema's output.
  source: z.string().default('web').transform((s) => `${s}+`),
});

/** A typed network whose entry agent's instructions are async: they wait, then read the typed context. */
const typedNetwork = (url: string) => {
  const model = { name: 'scripted', baseURL: url, apiKey: 'test', maxRetries: 0 };
  // A typed tool: its patch and the reply's context patch are checked against the schema by tsc.
  const upgrade = defineTool({
    name: 'upgrade',
    description: 'Upgrade the user to pro',
    parameters: z.object({}),
    context: Context,
    handler: async (_args, ctx) => {
      ctx.setContext({ address: { country: 'SE' } });
      return ctx.reply({ message: `user ${ctx.context.userId} upgraded`, context: { tier: 'pro' }, target: 'Pro' });
    },
  });
  return defineNetwork({
    name: 'typed',
    context: Context,
    agents: [
      defineAgent({
        name: 'Front',
        context: Context,
        model,
        instructions: async ({ context }) => {
          await new Promise((resolve) => setTimeout(resolve, 25));
          return `You are Front. Serving user ${context.userId} on the ${context.tier} plan.`;
        },
        contextConditions: [{ target: 'Pro', condition: '${tier} == "pro"' }],
        tools: [upgrade],
      }),
      defineAgent({ name: 'Pro', context: Context, model, instructions: ({ context }) => `You are Pro. User ${context.userId}.` }),
    ],
  });
};
type TypedNetwork = ReturnType<typeof typedNetwork>;

/** Typed networks at run time: context validated at start (Redis client, coordinator, HTTP API), async instructions awaited by a real worker. */
describe('typed network', { timeout: 60_000 }, () => {
  let model: ScriptedModel;
  let gateway: Gateway;
  let workers: WorkerGroup;
  let network: TypedNetwork;
  let typed: RedisHandoffClient<TypedNetwork>;
  let untyped: RedisHandoffClient;
  let baseUrl: string;
  beforeAll(async () => {
    const prefix = uniquePrefix('typed');
    const redis = { url: redisUrl(), prefix };
    const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    model = await startScriptedModel({
      rules: [
        { name: 'Front upgrades', when: (req) => by('Front')(req) && lastUserText(req) === 'upgrade me' && !req.body.messages.some((m) => m.role === 'tool'), reply: { toolCalls: [{ name: 'upgrade', arguments: {} }] } },
        { name: 'Front echoes its instructions', when: by('Front'), reply: (req) => ({ content: `Front says: ${systemText(req) ?? ''}` }) },
        { name: 'Pro answers', when: by('Pro'), reply: { content: 'Pro here.' } },
      ],
    });
    network = typedNetwork(model.url);
    gateway = await startGateway({ network, redis, logger, http: { port: 0, host: '127.0.0.1', auth: false } });
    workers = await startWorkers({ network, redis, logger });
    await Promise.all([gateway.waitUntilReady(), workers.waitUntilReady()]);
    typed = createClient({ redis, network });
    untyped = createClient({ redis });
    baseUrl = `http://127.0.0.1:${gateway.http!.port}`;
  });
  afterAll(async () => {
    await Promise.all([typed?.close(), untyped?.close()]);
    await Promise.all([workers?.close(), gateway?.close()]);
    await model?.close();
  });

  it('awaits async instructions, with the context as the schema outputs it (defaults applied)', async () => {
    const conversation = await typed.start({ agent: 'Front', input: 'hello', context: { userId: 7 } });
    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result.status).toBe('completed');
    expect(result.output).toBe('Front says: You are Front. Serving user 7 on the free plan.');
    expect(result.context).toEqual({ userId: 7, tier: 'free', source: 'web+' });
    // A typed context condition routes on the typed variable.
    const pro = await (await typed.start({ input: 'hi', context: { userId: 8, tier: 'pro' } })).result({ timeoutMs: 15_000 });
    expect(pro).toMatchObject({ status: 'completed', agent: 'Pro', output: 'Pro here.', path: ['Front', 'Pro'] });
  });

  it('applies a typed tool\'s setContext and reply result: the patch, then the target', async () => {
    const result = await (await typed.start({ agent: 'Front', input: 'upgrade me', context: { userId: 5 } })).result({ timeoutMs: 15_000 });
    expect(result).toMatchObject({ status: 'completed', agent: 'Pro', path: ['Front', 'Pro'] });
    expect(result.context).toEqual({ userId: 5, tier: 'pro', address: { country: 'SE' }, source: 'web+' });
  });

  it('types start against the network: agent names and context', () => {
    expectTypeOf<Parameters<typeof typed.start>[0]['agent']>().toEqualTypeOf<'Front' | 'Pro' | undefined>();
    // @ts-expect-error "Frnt" is not an agent of the network
    void (() => typed.start({ agent: 'Frnt', input: 'x', context: { userId: 1 } }));
    // @ts-expect-error userId must be a number
    void (() => typed.start({ input: 'x', context: { userId: '1' } }));
    // @ts-expect-error the schema requires a context (userId)
    void (() => typed.start({ input: 'x' }));
    const http = createHttpClient<TypedNetwork>({ baseUrl: 'http://localhost:1' });
    // @ts-expect-error "Frnt" is not an agent of the network
    void (() => http.start({ agent: 'Frnt', input: 'x', context: { userId: 1 } }));
    // createClient<typeof network>() types without the network at run time.
    type ByType = ReturnType<typeof createClient<TypedNetwork>>;
    expectTypeOf<Parameters<ByType['start']>[0]['agent']>().toEqualTypeOf<'Front' | 'Pro' | undefined>();
    expectTypeOf<Parameters<ByType['start']>[0]['context']>().toEqualTypeOf<z.input<typeof Context>>();
    // Untyped clients take any name and any JSON context, as before.
    void (() => untyped.start({ agent: 'Anything', input: 'x', context: { whatever: [1, 'two'] } }));
  });

  it('refuses a context the schema rejects at start over Redis, naming the failing path', async () => {
    const error = await typed.start({ agent: 'Front', input: 'hello', context: { userId: 'seven' as unknown as number } }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidContextError);
    expect(isHandoffError(error) && error.code).toBe(ErrorCode.INVALID_CONTEXT);
    expect((error as InvalidContextError).issues).toEqual([{ path: 'userId', message: expect.stringMatching(/number/) }]);
    expect((error as Error).message).toMatch(/network "typed".*userId: .*number/);
  });

  it('ends a start from a client without the network with INVALID_CONTEXT (the coordinator checks it)', async () => {
    const conversation = await untyped.start({ agent: 'Front', input: 'hello', context: { userId: 1, address: { country: 'France' } } });
    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe(ErrorCode.INVALID_CONTEXT);
    expect(result.error?.details?.issues).toEqual([{ path: 'address.country', message: expect.any(String) }]);
    expect(model.requests.some((r) => JSON.stringify(r.body).includes('France'))).toBe(false);
  });

  it('answers 400 INVALID_CONTEXT over HTTP, and the HTTP client throws the same typed error', async () => {
    const response = await fetch(`${baseUrl}/v1/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'Front', input: 'hi', context: { userId: 1, tier: 'gold' } }) });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; details: { issues: { path: string }[] } } };
    expect(body.error.code).toBe('INVALID_CONTEXT');
    expect(body.error.details.issues.map((i) => i.path)).toEqual(['tier']);

    const http = createHttpClient({ baseUrl });
    const error = await http.start({ agent: 'Front', input: 'hi', context: {} }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidContextError);
    expect((error as InvalidContextError).issues.map((i) => i.path)).toEqual(['userId']);
    // Given the network, the HTTP client refuses it before any request (nothing listens on port 1).
    const local = createHttpClient({ baseUrl: 'http://127.0.0.1:1', network });
    await expect(local.start({ agent: 'Front', input: 'hi', context: { userId: 1.5 } })).rejects.toBeInstanceOf(InvalidContextError);
    // A valid context starts over HTTP too.
    const ok = await (await http.start({ agent: 'Front', input: 'over http', context: { userId: 9, tier: 'free' } })).result({ timeoutMs: 15_000 });
    expect(ok.output).toBe('Front says: You are Front. Serving user 9 on the free plan.');
  });
});
