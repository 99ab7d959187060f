import type OpenAI from 'openai';
import {
  ModelBehaviorError,
  addUsage,
  hrNow,
  isHandoffError,
  ZERO_USAGE,
  type Envelope,
  type Message,
  type NetworkAgent,
  type NetworkDefinition,
  type TokenUsage,
  type ToolCall,
  type TurnOutcome,
} from '@handoff/core';
import { streamCompletion } from '../model/stream-completion.js';
import { parseToolArguments, transferTools, type TransferTool } from './transfer-tools.js';
import type { TurnEvents } from './turn-events.js';

/** What one turn needs. */
export interface TurnInput {
  network: NetworkDefinition;
  agent: NetworkAgent;
  envelope: Envelope;
  /** The conversation so far (the envelope's first `historyLength` messages). */
  history: readonly Message[];
  client: OpenAI;
  events: TurnEvents;
  signal?: AbortSignal | undefined;
}

/** What one turn produced. */
export interface TurnRun {
  newMessages: Message[];
  outcome: TurnOutcome;
  usage: TokenUsage;
  /** Time spent in model calls. */
  model: ModelTime;
}

/** Time spent in model calls (high-resolution ms). */
export interface ModelTime {
  firstCallAt: number | null;
  lastReturnAt: number | null;
  totalMs: number;
}

/** The decision taken from one round of tool calls. */
interface ToolRound {
  results: Message[];
  handoff: { target: string; reason: string } | null;
}

/**
 * Runs one agent turn: the agent's instructions and the whole history go to the model with the
 * agent's transfer tools. A plain answer ends the turn with a final output; a transfer tool call
 * ends it with a handoff (the first one wins; later ones are answered as ignored). Invalid tool
 * calls — bad JSON, unknown tools — go back to the model as error results, for at most
 * `maxToolRounds` model calls. A model endpoint failure ends the turn as failed.
 */
export async function runTurn(input: TurnInput): Promise<TurnRun> {
  const { agent, events } = input;
  const tools = transferTools(input.network, agent);
  const newMessages: Message[] = [];
  let usage = ZERO_USAGE;
  const model: ModelTime = { firstCallAt: null, lastReturnAt: null, totalMs: 0 };

  for (let round = 1; round <= agent.maxToolRounds; round++) {
    let completion;
    const callAt = hrNow();
    model.firstCallAt ??= callAt;
    try {
      completion = await streamCompletion({
        client: input.client,
        settings: agent.resolvedModel,
        agent: agent.name,
        messages: [{ role: 'system', content: agent.instructions }, ...input.history, ...newMessages],
        tools: tools.map((t) => t.tool),
        onTextDelta: (text) => events.text(text),
        signal: input.signal,
      });
    } catch (error) {
      if (isHandoffError(error)) return { newMessages, usage, model, outcome: { type: 'failed', error: error.toJSON() } };
      throw error;
    } finally {
      model.lastReturnAt = hrNow();
      model.totalMs += model.lastReturnAt - callAt;
    }
    usage = addUsage(usage, completion.usage);
    newMessages.push(completion.message);
    const calls = completion.message.tool_calls ?? [];
    if (calls.length === 0) return { newMessages, usage, model, outcome: { type: 'final', output: completion.message.content ?? '' } };

    const round_ = answerToolCalls(calls, tools, input);
    newMessages.push(...round_.results);
    if (round_.handoff) return { newMessages, usage, model, outcome: { type: 'handoff', ...round_.handoff } };
  }
  const error = new ModelBehaviorError(
    `Agent "${agent.name}" made ${agent.maxToolRounds} model calls in one turn without an answer or a valid handoff.`,
    { details: { agent: agent.name, maxToolRounds: agent.maxToolRounds } },
  );
  return { newMessages, usage, model, outcome: { type: 'failed', error: error.toJSON() } };
}

/** Answers every tool call of one model response, in order, and picks the handoff if there is one. */
function answerToolCalls(calls: readonly ToolCall[], tools: readonly TransferTool[], input: TurnInput): ToolRound {
  const { events, agent, envelope } = input;
  const results: Message[] = [];
  let handoff: ToolRound['handoff'] = null;
  for (const call of calls) {
    events.emit({ type: 'tool.called', agent: agent.name, hopId: envelope.hopId, toolCallId: call.id, name: call.function.name, arguments: call.function.arguments });
    const answer = answerOne(call, tools, handoff !== null);
    if (answer.handoff) handoff = answer.handoff;
    results.push({ role: 'tool', tool_call_id: call.id, content: answer.content });
    events.emit({ type: 'tool.result', agent: agent.name, hopId: envelope.hopId, toolCallId: call.id, name: call.function.name, result: answer.content, isError: answer.isError });
  }
  return { results, handoff };
}

function answerOne(
  call: ToolCall,
  tools: readonly TransferTool[],
  alreadyHandingOff: boolean,
): { content: string; isError: boolean; handoff?: { target: string; reason: string } } {
  const transfer = tools.find((t) => t.handoff.toolName === call.function.name);
  if (!transfer) {
    const known = tools.map((t) => t.handoff.toolName).join(', ') || '(none)';
    return { content: `Error: there is no tool named "${call.function.name}". Available tools: ${known}.`, isError: true };
  }
  const args = parseToolArguments(call.function.arguments);
  if (!args.ok) {
    return { content: `Error: ${args.error}. Call ${call.function.name} again with a JSON object such as {"reason": "..."}.`, isError: true };
  }
  if (alreadyHandingOff) {
    return { content: 'Ignored: only the first handoff of a turn is carried out.', isError: true };
  }
  const reason = typeof args.value.reason === 'string' && args.value.reason.trim() !== '' ? args.value.reason : `Transfer to ${transfer.handoff.agent}`;
  return { content: JSON.stringify({ assistant: transfer.handoff.agent }), isError: false, handoff: { target: transfer.handoff.agent, reason } };
}
