import type OpenAI from 'openai';
import {
  ModelBehaviorError,
  addUsage,
  hrNow,
  isHandoffError,
  ZERO_USAGE,
  type ContextVariables,
  type Envelope,
  type HandoffSource,
  type JsonValue,
  type Message,
  type NetworkAgent,
  type NetworkDefinition,
  type Target,
  type TokenUsage,
  type ToolCall,
  type TurnOutcome,
} from '@handoff/core';
import { streamCompletion } from '../model/stream-completion.js';
import { runToolCall, toolSchema } from './function-tools.js';
import { selectSpeaker } from './group-manager.js';
import { withoutTransfers } from './history-view.js';
import { systemMessages } from './instructions.js';
import { firstMatchingRule } from './rules.js';
import { parseToolArguments, transferTools, type TransferTool } from './transfer-tools.js';
import { TurnContext } from './turn-context.js';
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
  /** Context variables the turn set. */
  contextPatch: ContextVariables | undefined;
  /** Time spent in model calls. */
  model: ModelTime;
}

/** Time spent in model calls (high-resolution ms). */
export interface ModelTime {
  firstCallAt: number | null;
  lastReturnAt: number | null;
  totalMs: number;
}

/** The handoff chosen in a round of tool calls. */
interface Chosen {
  target: Target;
  reason: string;
  source: HandoffSource;
  args?: Record<string, JsonValue>;
}

/**
 * Runs one agent turn, with the handoff rules in AG2's order:
 * 1. context conditions, before any model call — the first that holds moves control;
 * 2. the model, offered the agent's function tools and its available transfer tools (LLM
 *    conditions) — the first transfer called wins, every other one is answered as not taken;
 * 3. tools whose reply result names a target move control the same way;
 * 4. a turn that ends with an answer and no handoff goes to after-work: the agent's rules, then
 *    the network's (or group's) pattern; terminate ends the conversation with the answer.
 * Invalid tool calls go back to the model as error results, for at most `maxToolRounds` model
 * calls. A group-manager target is resolved here (a model call) into an agent.
 */
export async function runTurn(input: TurnInput): Promise<TurnRun> {
  const { agent, envelope, network } = input;
  const context = new TurnContext(envelope.context);
  const newMessages: Message[] = [];
  let usage = ZERO_USAGE;
  const model: ModelTime = { firstCallAt: null, lastReturnAt: null, totalMs: 0 };
  const finish = (outcome: TurnOutcome): TurnRun => ({ newMessages, usage, model, outcome, contextPatch: context.changes });
  const history = network.keepTransferMessages ? [...input.history] : withoutTransfers(input.history, network.transferToolNames);

  const handoff = async (chosen: Chosen, answer?: string): Promise<TurnRun> => {
    // The agent's last words in this turn are the output, should the target end the conversation.
    const output = answer ?? lastText(newMessages);
    if (chosen.target.type !== 'group_manager') {
      return finish({ type: 'handoff', target: chosen.target, reason: chosen.reason, source: chosen.source, ...(chosen.args ? { args: chosen.args } : {}), ...(output === undefined ? {} : { output }) });
    }
    const members = envelope.group?.members ?? network.agentNames;
    const candidates = (chosen.target.candidates ?? members).filter((name) => name !== agent.name);
    const selected = await selectSpeaker({
      client: input.client,
      settings: agent.resolvedModel,
      network,
      current: agent.name,
      candidates: candidates.length > 0 ? candidates : [agent.name],
      history: [...history, ...newMessages],
      selectionMessage: chosen.target.selectionMessage,
      attempts: chosen.target.attempts ?? 3,
      signal: input.signal,
    });
    usage = addUsage(usage, selected.usage);
    return finish({ type: 'handoff', target: { type: 'agent', agent: selected.agent }, reason: selected.reason, source: 'group_manager', ...(output === undefined ? {} : { output }) });
  };

  try {
    const byContext = firstMatchingRule(agent.compiledContextConditions, context.current, 'context condition');
    if (byContext) return await handoff({ target: byContext.target, reason: byContext.reason, source: 'context_condition' });

    for (let round = 1; round <= agent.maxToolRounds; round++) {
      const transfers = transferTools(network, agent, context.current);
      const callAt = hrNow();
      model.firstCallAt ??= callAt;
      let completion;
      try {
        completion = await streamCompletion({
          client: input.client,
          settings: agent.resolvedModel,
          agent: agent.name,
          messages: [...systemMessages(agent, envelope, context.current), ...history, ...newMessages],
          tools: [...transfers.map((t) => t.tool), ...agent.tools.map(toolSchema)],
          onTextDelta: (text) => input.events.text(text),
          signal: input.signal,
        });
      } finally {
        model.lastReturnAt = hrNow();
        model.totalMs += model.lastReturnAt - callAt;
      }
      usage = addUsage(usage, completion.usage);
      newMessages.push(completion.message);
      const calls = completion.message.tool_calls ?? [];
      if (calls.length === 0) {
        const output = completion.message.content ?? '';
        const after = firstMatchingRule(afterWorkOf(input), context.current, 'after-work');
        if (!after || after.target.type === 'terminate') return finish({ type: 'final', output });
        return await handoff({ target: after.target, reason: after.reason, source: 'after_work' }, output);
      }
      const chosen = await answerToolCalls(calls, transfers, input, context, newMessages);
      if (chosen) return await handoff(chosen);
    }
    const error = new ModelBehaviorError(`Agent "${agent.name}" made ${agent.maxToolRounds} model calls in one turn without an answer or a valid handoff.`, {
      details: { agent: agent.name, maxToolRounds: agent.maxToolRounds },
    });
    return finish({ type: 'failed', error: error.toJSON() });
  } catch (error) {
    if (isHandoffError(error)) return finish({ type: 'failed', error: error.toJSON() });
    throw error;
  }
}

/** The after-work rules of this turn: the agent's own, then its group's pattern or the network's. */
function afterWorkOf(input: TurnInput) {
  const group = input.envelope.group;
  if (!group) return input.agent.compiledAfterWork;
  return [...input.agent.compiledOwnAfterWork, ...input.network.patternAfterWork(group.pattern, input.agent.name, group.members)];
}

/** Answers every tool call of one model response, in order, and returns the handoff if one was chosen. */
async function answerToolCalls(
  calls: readonly ToolCall[],
  transfers: readonly TransferTool[],
  input: TurnInput,
  context: TurnContext,
  newMessages: Message[],
): Promise<Chosen | undefined> {
  const { events, agent, envelope } = input;
  let chosen: Chosen | undefined;
  for (const call of calls) {
    events.emit({ type: 'tool.called', agent: agent.name, hopId: envelope.hopId, toolCallId: call.id, name: call.function.name, arguments: call.function.arguments });
    const answer = await answerOne(call, transfers, input, context, chosen !== undefined);
    if (answer.chosen) chosen = answer.chosen;
    newMessages.push({ role: 'tool', tool_call_id: call.id, content: answer.content });
    events.emit({ type: 'tool.result', agent: agent.name, hopId: envelope.hopId, toolCallId: call.id, name: call.function.name, result: answer.content, isError: answer.isError });
  }
  return chosen;
}

const NOT_TAKEN = 'Not taken: another handoff in this turn came first; only the first handoff of a turn is carried out.';

async function answerOne(
  call: ToolCall,
  transfers: readonly TransferTool[],
  input: TurnInput,
  context: TurnContext,
  alreadyHandingOff: boolean,
): Promise<{ content: string; isError: boolean; chosen?: Chosen }> {
  const transfer = transfers.find((t) => t.handoff.toolName === call.function.name);
  if (transfer) {
    const parsed = parseToolArguments(call.function.arguments);
    if (!parsed.ok) return { content: `Error: ${parsed.error}. Call ${call.function.name} again with a JSON object such as {"reason": "..."}.`, isError: true };
    const { reason: rawReason, ...rest } = parsed.value;
    let args: Record<string, JsonValue> | undefined;
    if (transfer.handoff.args) {
      const checked = transfer.handoff.args.safeParse(rest);
      if (!checked.success) return { content: `Error: invalid arguments for ${call.function.name}: ${checked.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, isError: true };
      args = checked.data as Record<string, JsonValue>;
    }
    if (alreadyHandingOff) return { content: NOT_TAKEN, isError: true };
    const reason = typeof rawReason === 'string' && rawReason.trim() !== '' ? rawReason : `Transfer via ${call.function.name}`;
    const to = transfer.handoff.target.type === 'agent' ? transfer.handoff.target.agent : transfer.handoff.target.type;
    return { content: JSON.stringify({ assistant: to }), isError: false, chosen: { target: transfer.handoff.target, reason, source: 'llm_condition', ...(args ? { args } : {}) } };
  }
  const tool = input.agent.tools.find((t) => t.name === call.function.name);
  if (tool) {
    const outcome = await runToolCall(tool, call.function.arguments, { conversationId: input.envelope.conversationId, hopId: input.envelope.hopId, agent: input.agent.name, context, signal: input.signal });
    if (!outcome.target) return outcome;
    if (alreadyHandingOff) return { content: `${outcome.content}\n(${NOT_TAKEN})`, isError: outcome.isError };
    return { ...outcome, chosen: { target: outcome.target, reason: `${tool.name} returned a handoff`, source: 'tool' } };
  }
  const known = [...transfers.map((t) => t.handoff.toolName), ...input.agent.tools.map((t) => t.name)].join(', ') || '(none)';
  return { content: `Error: there is no tool named "${call.function.name}". Available tools: ${known}.`, isError: true };
}

/** The text of the last assistant message that has some, if any. */
function lastText(messages: readonly Message[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role === 'assistant' && message.content) return message.content;
  }
  return undefined;
}
