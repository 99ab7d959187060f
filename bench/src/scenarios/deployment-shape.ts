import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import OpenAI from 'openai';
import { createClient } from '@handoff/client';
import type { ManagedProcess } from '@handoff/testing';
import { startModelProcess, startRole } from '../processes.js';
import { hrNow, summarize, type Summary } from '../stats.js';

/** Options of {@link deploymentShape}. */
export interface DeploymentShapeOptions {
  redisUrl: string;
  prefix: string;
  /** Pairs of (6-agent chain, single agent) conversations, run alternately, one at a time. */
  pairs: number;
  warmupPairs: number;
  /** Processes that burn a core each while measuring (a stated background load). @defaultValue 0 */
  backgroundBusyProcesses?: number;
}

/** What the deployment-shape run measured, from the client. */
export interface DeploymentShapeMeasurement {
  /** Client start → result of a 6-agent chain (A5 hands off to A6 … A10 answers): five handoffs. */
  chain: Summary;
  /** Client start → result of a single-agent conversation (A10 answers at once). */
  single: Summary;
  /** One streamed model round trip whose answer is a tool call (the openai client, from this process). */
  modelToolCall: Summary;
  /** One streamed model round trip whose answer is text. */
  modelAnswer: Summary;
  /** (chain p50 − single p50 − 5 × tool-call round trip p50) / 5: a handoff beyond its model call. */
  perHandoffMs: number;
  /** single p50 − answer round trip p50: start to result with the model excluded. */
  singleFixedCostMs: number;
  /** The 1-minute load average before and after the measured pairs. */
  loadAverage: { before: number; after: number };
  backgroundBusyProcesses: number;
}

/** Handoffs in the measured chain: A5 → A6 → … → A10. */
const CHAIN_HANDOFFS = 5;

/**
 * Per-handoff latency as users run it: `handoff gateway`, `handoff worker` and the scripted model as
 * separate processes, conversations started and awaited with `createClient` from this process.
 * The slope method cancels what a chain and a single-agent conversation share (the start, the
 * result wake-up, the final answer): per handoff = (chain − single − 5 model round trips) / 5.
 */
export async function deploymentShape(options: DeploymentShapeOptions): Promise<DeploymentShapeMeasurement> {
  const model = await startModelProcess();
  const env = { REDIS_URL: options.redisUrl, HANDOFF_PREFIX: options.prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'bench' };
  const roles: ManagedProcess[] = await Promise.all([startRole('gateway', env), startRole('worker', env, ['--concurrency', '4'])]);
  const client = createClient({ redis: { url: options.redisUrl, prefix: options.prefix } });
  const openai = new OpenAI({ baseURL: model.url, apiKey: 'bench', maxRetries: 0 });
  const busy: ChildProcess[] = [];
  try {
    const conversation = async (agent: 'A5' | 'A10', tag: string): Promise<number> => {
      const t0 = hrNow();
      const handle = await client.start({ agent, input: `${tag} ${'c'.repeat(1000)}` });
      const result = await handle.result({ timeoutMs: 60_000 });
      const elapsed = hrNow() - t0;
      if (result.status !== 'completed') throw new Error(`${agent} conversation ${tag} ended ${result.status}: ${result.error?.message}`);
      return elapsed;
    };
    const modelCall = async (withTool: boolean): Promise<number> => {
      const t0 = hrNow();
      const stream = await openai.chat.completions.create({
        model: 'scripted',
        stream: true,
        messages: [{ role: 'user', content: 'c'.repeat(1000) }],
        ...(withTool ? { tools: [{ type: 'function' as const, function: { name: 'transfer_to_next', parameters: { type: 'object', properties: {} } } }] } : {}),
      });
      for await (const chunk of stream) void chunk;
      return hrNow() - t0;
    };

    for (let i = 0; i < options.warmupPairs; i++) {
      await conversation('A5', `warm chain ${i}`);
      await conversation('A10', `warm single ${i}`);
      await modelCall(true);
      await modelCall(false);
    }
    for (let i = 0; i < (options.backgroundBusyProcesses ?? 0); i++) busy.push(burnCore());
    const before = loadavg()[0]!;
    const chain: number[] = [];
    const single: number[] = [];
    const toolCalls: number[] = [];
    const answers: number[] = [];
    for (let i = 0; i < options.pairs; i++) {
      chain.push(await conversation('A5', `chain ${i}`));
      single.push(await conversation('A10', `single ${i}`));
      toolCalls.push(await modelCall(true));
      answers.push(await modelCall(false));
    }
    const after = loadavg()[0]!;
    const [c, s, t, a] = [summarize(chain), summarize(single), summarize(toolCalls), summarize(answers)];
    const round = (x: number) => Math.round(x * 1000) / 1000;
    return {
      chain: c,
      single: s,
      modelToolCall: t,
      modelAnswer: a,
      perHandoffMs: round((c.p50 - s.p50 - CHAIN_HANDOFFS * t.p50) / CHAIN_HANDOFFS),
      singleFixedCostMs: round(s.p50 - a.p50),
      loadAverage: { before: round(before), after: round(after) },
      backgroundBusyProcesses: busy.length,
    };
  } finally {
    for (const child of busy) child.kill('SIGKILL');
    await client.close();
    await Promise.all([...roles, model.process].map((p) => p.stop()));
  }
}

/** A child process that spins on one core until killed: the stated background load. */
function burnCore(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
}
