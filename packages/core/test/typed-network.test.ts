/**
 * Typed networks: `defineNetwork({ context })` types instructions, conditions, tools and reply
 * results; agent names are literal types, so a name that is not in the network fails `tsc`.
 * The `@ts-expect-error` lines are the proof: `npx tsc -p tsconfig.tests.json --noEmit` fails when
 * one of them compiles (TS2578 "Unused '@ts-expect-error' directive").
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  DefinitionError,
  defineAgent,
  defineNetwork,
  capabilityRouter,
  defineTool,
  pool,
  replyResult,
  to,
  type AgentNameOf,
  type ContextInputOf,
  type ContextOf,
  type ContextVariables,
  type InstructionsContext,
  type NetworkDefinition,
  type ToolContext,
} from '@handoff/core';

const Context = z.object({ userId: z.number(), tier: z.enum(['free', 'pro']), notes: z.array(z.string()).default([]) });
type Ctx = z.output<typeof Context>;

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks the user up',
  parameters: z.object({ field: z.string() }),
  context: Context,
  handler: async ({ field }, ctx) => {
    expectTypeOf(ctx).toEqualTypeOf<ToolContext<Ctx>>();
    expectTypeOf(ctx.context.userId).toEqualTypeOf<number>();
    ctx.setContext({ tier: 'pro' });
    // @ts-expect-error the context has no such variable
    ctx.setContext({ tierr: 'pro' });
    // @ts-expect-error a tier the schema does not allow
    ctx.setContext({ tier: 'gold' });
    return replyResult({ message: `${field} of ${ctx.context.userId}`, context: { notes: ['looked up'] }, target: 'Billing' });
  },
});

defineTool({
  name: 'good_reply',
  description: 'A reply result whose context patch fits the schema',
  parameters: z.object({}),
  context: Context,
  handler: async (_args, ctx) => ctx.reply({ message: 'upgraded', context: { tier: 'pro', notes: ['upgraded'] }, target: 'Billing' }),
});
defineTool({
  name: 'bad_reply',
  description: 'A reply result whose context patch the schema does not allow',
  parameters: z.object({}),
  context: Context,
  // @ts-expect-error tier "gold" is not in the schema (ctx.reply types the patch by the tool's context)
  handler: async (_args, ctx) => ctx.reply({ message: 'x', context: { tier: 'gold' } }),
});

const billing = defineAgent({
  name: 'Billing',
  context: Context,
  instructions: async ({ context }) => `Billing for user ${context.userId} on ${context.tier}`,
  handoffs: ['Triage'],
  tools: [lookup],
});
const triage = defineAgent({
  name: 'Triage',
  context: Context,
  instructions: ({ context }) => `Triage (${context.notes.length} notes)`,
  handoffs: [{ agent: 'Billing', description: 'For tier ${tier}', available: '${tier} == "pro"' }],
  contextConditions: [{ target: 'Billing', condition: '${userId} > 100' }],
  afterWork: [{ target: to.agent('Billing'), condition: 'tier' }, { target: to.terminate() }],
  fallbacks: ['Billing'],
});
const network = defineNetwork({ name: 'typed', context: Context, agents: [billing, triage] });

describe('typed networks', () => {
  it('gives the network literal agent names and the context types', () => {
    expectTypeOf<AgentNameOf<typeof network>>().toEqualTypeOf<'Billing' | 'Triage'>();
    expectTypeOf<ContextOf<typeof network>>().toEqualTypeOf<Ctx>();
    expectTypeOf<ContextInputOf<typeof network>>().toEqualTypeOf<z.input<typeof Context>>();
    expectTypeOf(billing.name).toEqualTypeOf<'Billing'>();
    expectTypeOf(network).toExtend<NetworkDefinition>();
    expect(network.context).toBe(Context);
    // Targets built with \`to\` keep their names (no \`string\` leaks in from to.terminate()).
    expectTypeOf<NonNullable<(typeof triage)['~types']>['refs']>().toEqualTypeOf<'Billing'>();
  });

  it('types agents written inside defineNetwork that name the context schema', () => {
    const inline = defineNetwork({
      name: 'inline',
      context: Context,
      agents: [
        defineAgent({
          name: 'A',
          context: Context,
          instructions: ({ context }) => {
            expectTypeOf(context).toEqualTypeOf<Readonly<Ctx>>();
            return `user ${context.userId}`;
          },
          handoffs: ['B'],
        }),
        defineAgent({ name: 'B', context: Context, instructions: async ({ context }) => `tier ${context.tier}` }),
      ],
    });
    expectTypeOf<AgentNameOf<typeof inline>>().toEqualTypeOf<'A' | 'B'>();
    defineNetwork({
      name: 'inline-typo',
      context: Context,
      agents: [
        // @ts-expect-error the context has no variable "tierr"
        defineAgent({ name: 'A', context: Context, instructions: ({ context }) => `tier ${context.tierr}` }),
      ],
    });
  });

  it('rejects agent names that are not in the network', () => {
    const typo = defineAgent({ name: 'Refunds', instructions: 'x', handoffs: ['Biling'] });
    // @ts-expect-error "Biling" is not an agent of the network
    expect(() => defineNetwork({ name: 'typo', agents: [typo, defineAgent({ name: 'Billing', instructions: 'x' })] })).toThrow(DefinitionError);
    const fallback = defineAgent({ name: 'F', instructions: 'x', fallbacks: ['Nobody'] });
    // @ts-expect-error "Nobody" is not an agent of the network
    expect(() => defineNetwork({ name: 'typo', agents: [fallback] })).toThrow(/fallback "Nobody"/);
    const target = defineAgent({ name: 'T', instructions: 'x', afterWork: to.random(['T2', 'Ghost']) });
    // @ts-expect-error "Ghost" is not an agent of the network
    expect(() => defineNetwork({ name: 'typo', agents: [target, defineAgent({ name: 'T2', instructions: 'x' })] })).toThrow(/Ghost/);
    const spec = defineAgent({ name: 'S', instructions: 'x', handoffs: [{ target: to.nestedChat([{ agent: 'Nested' }]) }] });
    // @ts-expect-error "Nested" is not an agent of the network
    expect(() => defineNetwork({ name: 'typo', agents: [spec] })).toThrow(/Nested/);
    // @ts-expect-error the entry agent is not in the network
    expect(() => defineNetwork({ name: 'typo', agents: [billing, triage], context: Context, entry: 'Bill' })).toThrow(/entry/);
    const p1 = defineAgent({ name: 'P1', instructions: 'x' });
    const p2 = defineAgent({ name: 'P2', instructions: 'x', handoffs: [{ target: to.route('writers') }] });
    expect(defineNetwork({ name: 'pools', agents: [p1, p2], routers: { writers: pool(['P1', 'P2']), caps: capabilityRouter({ capabilities: { code: 'P1' }, default: 'P2', classify: { model: true } }) } }).agentNames).toEqual(['P1', 'P2']);
    // @ts-expect-error "P3" is not an agent of the network (a pool's agent)
    expect(() => defineNetwork({ name: 'pools', agents: [p1, p2], routers: { writers: pool(['P1', 'P3']) } })).toThrow(/"P3"/);
    // @ts-expect-error "Coder" is not an agent of the network (a capability router's agent)
    expect(() => defineNetwork({ name: 'caps', agents: [p1, p2], routers: { writers: pool(['P1']), caps: capabilityRouter({ capabilities: { code: 'Coder' }, default: 'P1', classify: { model: true } }) } })).toThrow(/"Coder"/);
    // A router is a target through to.route, never by its name.
    const byName = defineAgent({ name: 'R', instructions: 'x', handoffs: ['pool1'] });
    // @ts-expect-error "pool1" is a router, not an agent
    expect(() => defineNetwork({ name: 'routed', agents: [byName], routers: { pool1: pool(['R']) } })).toThrow(/target "pool1" is not in the network/);
  });

  it('rejects conditions and descriptions that name context variables the schema lacks', () => {
    // @ts-expect-error "tierr" is not a context variable
    defineAgent({ name: 'C1', context: Context, instructions: 'x', contextConditions: [{ target: 'X', condition: '${tierr} == "pro"' }] });
    // @ts-expect-error "vip" is not a context variable (a bare name means its truthiness)
    defineAgent({ name: 'C2', context: Context, instructions: 'x', afterWork: [{ target: 'X', condition: 'vip' }] });
    // @ts-expect-error "plan" is not a context variable
    defineAgent({ name: 'C3', context: Context, instructions: 'x', handoffs: [{ agent: 'X', description: 'For plan ${plan}' }] });
    // @ts-expect-error "open" is not a context variable
    defineAgent({ name: 'C4', context: Context, instructions: 'x', handoffs: [{ agent: 'X', available: 'open' }] });
    // @ts-expect-error instructions see the typed context
    defineAgent({ name: 'C5', context: Context, instructions: ({ context }) => context.plan });
  });

  it('refuses a typed agent in a network without (or with another) context schema', () => {
    // @ts-expect-error the agent needs a context the untyped network does not promise
    expect(() => defineNetwork({ name: 'untyped', agents: [billing, triage] })).toThrow(/context schema that is not the network's/);
    const Other = z.object({ userId: z.string() });
    // @ts-expect-error another context schema
    expect(() => defineNetwork({ name: 'other', context: Other, agents: [billing, triage] })).toThrow(DefinitionError);
  });

  it('keeps untyped networks as they were: any names, any JSON context', () => {
    const names: string[] = ['Two'];
    const one = defineAgent({ name: 'One', instructions: ({ context }) => String(context['anything']), handoffs: names });
    const two = defineAgent({ name: 'Two', instructions: 'x', contextConditions: [{ target: 'One', condition: '${whatever} > 1' }] });
    const untyped = defineNetwork({ name: 'untyped', agents: [one, two] });
    expectTypeOf<ContextOf<typeof untyped>>().toEqualTypeOf<ContextVariables>();
    expectTypeOf<InstructionsContext['context']>().toEqualTypeOf<Readonly<ContextVariables>>();
    const dynamicName: string = 'Dyn';
    defineNetwork({ name: 'dynamic', agents: [defineAgent({ name: dynamicName, instructions: 'x' })] });
    // An untyped agent joins a typed network.
    expect(defineNetwork({ name: 'mixed', context: Context, agents: [billing, triage, defineAgent({ name: 'Plain', instructions: 'x', handoffs: ['Billing'] })] }).agentNames).toEqual(['Billing', 'Triage', 'Plain']);
  });
});
