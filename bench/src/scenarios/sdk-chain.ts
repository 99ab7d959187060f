import { Agent, OpenAIChatCompletionsModel, Runner, setTracingDisabled, type AgentInputItem, type Model, type ModelRequest, type ModelResponse, type StreamEvent } from '@openai/agents';
import OpenAI from 'openai';
import { startScriptedModel } from '@handoff/testing';
import { CHAIN_RULES } from '../chain-script.js';
import { syntheticHistory } from '../history.js';
import { hrNow, summarize } from '../stats.js';
import type { ChainMeasurement } from './runtime-chain.js';

/** Options of {@link sdkChain}. */
export interface SdkChainOptions {
  agents: number;
  chains: number;
  warmupChains: number;
  historyMessages: number;
  historyBytesEach: number;
}

/**
 * What a user would pick instead: the same chain in one process with the OpenAI Agents SDK for JS
 * (`@openai/agents`), against the same scripted model over HTTP (chat.completions), measured the
 * same way at the model server.
 */
export async function sdkChain(options: SdkChainOptions): Promise<ChainMeasurement> {
  setTracingDisabled(true);
  const model = await startScriptedModel({ rules: CHAIN_RULES });
  const client = new OpenAI({ baseURL: model.url, apiKey: 'bench', maxRetries: 0 });
  const chatModel = new TimedModel(new OpenAIChatCompletionsModel(client, 'scripted'));
  let next: Agent | undefined;
  for (let i = options.agents; i >= 1; i--) {
    next = new Agent({
      name: `A${i}`,
      handoffDescription: `Step ${i}`,
      instructions: `You are step ${i}.`,
      model: chatModel,
      handoffs: next ? [next] : [],
    });
  }
  const entry = next!;
  const runner = new Runner({ tracingDisabled: true });

  const runChain = async (tag: string) => {
    const prior = options.historyMessages > 0 ? syntheticHistory(options.historyMessages, options.historyBytesEach, tag) : [];
    const input: string | AgentInputItem[] =
      prior.length > 0
        ? prior.map((m): AgentInputItem =>
            m.role === 'user'
              ? { role: 'user', content: m.content }
              : { role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: m.content }] },
          )
        : `${tag} ${'c'.repeat(Math.max(0, 1000 - tag.length))}`;
    const t0 = hrNow();
    const result = await runner.run(entry, input, { maxTurns: options.agents + 1 });
    if (result.finalOutput !== 'done') throw new Error(`SDK chain ${tag} ended with ${String(result.finalOutput)}`);
    return hrNow() - t0;
  };

  for (let i = 0; i < options.warmupChains; i++) await runChain(`warmup ${i}`);
  const warmupRequests = model.requests.length;
  const chainTimes: number[] = [];
  const gaps: number[] = [];
  const modelCalls: number[] = [];
  for (let i = 0; i < options.chains; i++) {
    chatModel.calls.length = 0;
    chainTimes.push(await runChain(`chain ${i}`));
    const calls = chatModel.calls;
    modelCalls.push(...calls.map((c) => c.end - c.start));
    for (let k = 1; k < calls.length; k++) gaps.push(calls[k]!.start - calls[k - 1]!.end);
  }
  const firstRequestBytes = JSON.stringify(model.requests[warmupRequests]?.body.messages ?? []).length;
  await model.close();
  return { handoff: summarize(gaps), chain: summarize(chainTimes), modelCall: summarize(modelCalls), firstRequestBytes };
}

/** Wraps the SDK's model to time each call, the same way the runtime times its own. */
class TimedModel implements Model {
  readonly calls: { start: number; end: number }[] = [];
  constructor(private readonly inner: Model) {}
  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const start = hrNow();
    try {
      return await this.inner.getResponse(request);
    } finally {
      this.calls.push({ start, end: hrNow() });
    }
  }
  getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    return this.inner.getStreamedResponse(request);
  }
}
