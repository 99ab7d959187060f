import { Redis } from 'ioredis';
import pino from 'pino';
import { z } from 'zod';
import { createClient } from '@handoff/client';
import { defineAgent, defineNetwork, defineTool, type NetworkDefinition } from '@handoff/core';
import { startGateway } from '@handoff/gateway';
import { startScriptedModel, systemText, type RecordedRequest, type ScriptRule } from '@handoff/testing';
import { startWorkers } from '@handoff/worker';
import { conversationKey } from '../chain-script.js';
import { summarize, type Summary } from '../stats.js';
import { commandCounts } from './streaming.js';

/** Options of {@link journalCost}. */
export interface JournalCostOptions {
  redisUrl: string;
  prefix: string;
  agents: number;
  chains: number;
  warmupChains: number;
  /** Journal the turns (the worker's default) or not. */
  journal: boolean;
}

/** What a chain whose every agent calls one tool costs, measured at the model server. */
export interface JournalCostMeasurement {
  journal: boolean;
  /** Model answer → next model request of the next agent: the per-handoff overhead. */
  handoff: Summary;
  /** Model answer asking for the tool → the same agent's next model request: the tool call's overhead (the tool itself does nothing). */
  toolCall: Summary;
  /** Redis commands (those scripts ran included) and script calls per handoff, over the measured chains. */
  commandsPerHandoff: number;
  scriptsPerHandoff: number;
}

const noop = defineTool({ name: 'Note', description: 'Notes something (does nothing).', parameters: z.object({ text: z.string() }), handler: () => 'noted' });

/** A chain A1 → … → An in which each agent first calls `Note`, then hands off (the last one answers). */
function toolChain(length: number, baseURL: string): NetworkDefinition {
  const model = { name: 'scripted', maxRetries: 0, baseURL, apiKey: 'bench' };
  return defineNetwork({
    name: `tool-chain-${length}`,
    maxHops: length + 1,
    agents: Array.from({ length }, (_, i) =>
      defineAgent({ name: `A${i + 1}`, description: `Step ${i + 1}`, instructions: `You are step ${i + 1}.`, model, tools: [noop], handoffs: i + 1 < length ? [`A${i + 2}`] : [] }),
    ),
  });
}

const stepOf = (req: RecordedRequest) => Number(/You are step (\d+)\./.exec(systemText(req) ?? '')?.[1] ?? 0);
const notesIn = (req: RecordedRequest) => req.body.messages.filter((m) => m.role === 'assistant' && m.tool_calls?.some((c) => c.function.name === 'Note')).length;

const transferOf = (req: RecordedRequest) => (req.body.tools ?? []).map((t) => t.function?.name).find((name) => name !== undefined && name !== 'Note');

/** Agent k calls Note once (when the history holds fewer than k Note calls), then its transfer, or answers when it has none. */
const TOOL_CHAIN_RULES: ScriptRule[] = [
  { name: 'note first', when: (req) => notesIn(req) < stepOf(req), reply: { toolCalls: [{ name: 'Note', arguments: { text: 'x' } }] } },
  {
    name: 'then hand off',
    when: (req) => transferOf(req) !== undefined,
    reply: (req) => ({ toolCalls: [{ name: transferOf(req)!, arguments: { reason: 'next' } }] }),
  },
  { name: 'last agent answers', reply: { content: 'done' } },
];

/**
 * The turn journal's cost: a chain whose every agent calls a tool that does nothing, then hands
 * off, one conversation at a time, gateway and workers in this process, with the journal on or
 * off. Gaps are taken at the model server (answer sent → next request received), split into tool
 * calls (the same agent asks again) and handoffs (the next agent asks); so the journal's writes
 * around a tool call (the response asking for it, the claim, the result, the round's end) show in
 * the tool gap, and what it adds to a handoff (nothing but the deletion with the turn result) in
 * the handoff gap.
 */
export async function journalCost(options: JournalCostOptions): Promise<JournalCostMeasurement> {
  const model = await startScriptedModel({ rules: TOOL_CHAIN_RULES });
  const network = toolChain(options.agents, model.url);
  const logger = pino({ level: 'silent' });
  const redis = { url: options.redisUrl, prefix: options.prefix };
  const gateway = await startGateway({ network, redis, logger });
  const workers = await startWorkers({ network, redis, logger, concurrency: 4, journal: options.journal });
  await Promise.all([gateway.waitUntilReady(), workers.waitUntilReady()]);
  const client = createClient({ redis });
  const runChain = async (tag: string) => {
    const result = await (await client.start({ agent: 'A1', input: tag })).result({ timeoutMs: 120_000 });
    if (result.status !== 'completed') throw new Error(`chain ${tag} ended ${result.status}: ${result.error?.message}`);
  };
  try {
    for (let i = 0; i < options.warmupChains; i++) await runChain(`warmup ${i}`);
    const probe = new Redis(options.redisUrl);
    await probe.config('RESETSTAT');
    const measured = new Set<string>();
    for (let i = 0; i < options.chains; i++) {
      const tag = `chain ${i}`;
      measured.add(tag);
      await runChain(tag);
    }
    const calls = [...commandCounts(await probe.info('commandstats'))];
    probe.disconnect();
    const { handoffs, tools } = gapsByKind(model.requests, measured);
    const per = (n: number) => Math.round((n / Math.max(1, handoffs.length)) * 100) / 100;
    return {
      journal: options.journal,
      handoff: summarize(handoffs),
      toolCall: summarize(tools),
      commandsPerHandoff: per(calls.reduce((sum, [, n]) => sum + n, 0)),
      scriptsPerHandoff: per(calls.filter(([name]) => name === 'evalsha' || name === 'eval').reduce((sum, [, n]) => sum + n, 0)),
    };
  } finally {
    await client.close();
    await Promise.all([workers.close(), gateway.close()]);
    await model.close();
  }
}

/** Gaps between one answer and the next request of a conversation, split by whether the same agent asks again (a tool call) or the next one does (a handoff). */
function gapsByKind(requests: readonly RecordedRequest[], keys: ReadonlySet<string>): { handoffs: number[]; tools: number[] } {
  const byConversation = new Map<string, RecordedRequest[]>();
  for (const req of requests) {
    const key = conversationKey(req);
    if (keys.has(key)) byConversation.set(key, [...(byConversation.get(key) ?? []), req]);
  }
  const handoffs: number[] = [];
  const tools: number[] = [];
  for (const list of byConversation.values()) {
    list.sort((a, b) => a.receivedAtHr - b.receivedAtHr);
    for (let i = 1; i < list.length; i++) {
      const answered = list[i - 1]!.answeredAtHr;
      if (answered === undefined) continue;
      (stepOf(list[i]!) === stepOf(list[i - 1]!) ? tools : handoffs).push(list[i]!.receivedAtHr - answered);
    }
  }
  return { handoffs, tools };
}
