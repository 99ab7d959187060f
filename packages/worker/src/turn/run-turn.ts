import type OpenAI from 'openai';
import {
  ModelBehaviorError,
  StaleHopError,
  addUsage,
  hrNow,
  isHandoffError,
  ZERO_USAGE,
  DEFAULT_GROUP_MANAGER_ATTEMPTS,
  type ApprovalResume,
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
  inSpan,
  formatIssues,
} from '@handoff/core';
import { streamCompletion, type CompletionOutcome } from '../model/stream-completion.js';
import type { ToolCallScope } from './function-tools.js';
import { selectSpeaker } from './group-manager.js';
import { runJournaledToolCall } from './journaled-tool-call.js';
import { withoutTransfers } from './history-view.js';
import { systemMessages } from './instructions.js';
import { firstMatchingRule } from './rules.js';
import { parseToolArguments, transferTools, type TransferTool } from './transfer-tools.js';
import { TurnContext } from './turn-context.js';
import type { TurnTool } from './turn-tools.js';
import type { TurnEvents } from './turn-events.js';
import { TurnJournalRun } from './turn-journal-run.js';

/** What one turn needs. */
export interface TurnInput {
  network: NetworkDefinition;
  agent: NetworkAgent;
  envelope: Envelope;
  /** The conversation so far (the envelope's first `historyLength` messages). */
  history: readonly Message[];
  client: OpenAI;
  events: TurnEvents;
  /** The agent's function and MCP tools. */
  tools: readonly TurnTool[];
  logger: ToolCallScope['logger'];
  signal?: AbortSignal | undefined;
  /** The hop's turn journal: steps an earlier run completed are replayed, new ones are journaled. @defaultValue none: every step live */
  journal?: TurnJournalRun | undefined;
}

/** A turn's input with its journal (a run without one gets {@link TurnJournalRun.off}). */
type JournaledInput = TurnInput & { journal: TurnJournalRun };

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
export async function runTurn(turnInput: TurnInput): Promise<TurnRun> {
  const input: JournaledInput = { ...turnInput, journal: turnInput.journal ?? TurnJournalRun.off({ ...turnInput.envelope, agent: turnInput.agent.name }) };
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
      attempts: chosen.target.attempts ?? DEFAULT_GROUP_MANAGER_ATTEMPTS,
      signal: input.signal,
    });
    usage = addUsage(usage, selected.usage);
    return finish({ type: 'handoff', target: { type: 'agent', agent: selected.agent }, reason: selected.reason, source: 'group_manager', ...(output === undefined ? {} : { output }) });
  };

  try {
    if (envelope.resume) {
      // Resuming after approvals: answer the waiting tool calls, then carry on with the model.
      const chosen = await answerApproved(history, envelope.resume, input, context, newMessages);
      if (chosen) return await handoff(chosen);
    } else {
      const byContext = firstMatchingRule(agent.compiledContextConditions, context.current, 'context condition');
      if (byContext) return await handoff({ target: byContext.target, reason: byContext.reason, source: 'context_condition' });
    }

    for (let round = 1; round <= agent.maxToolRounds; round++) {
      const transfers = transferTools(network, agent, context.current);
      let completion = input.journal.modelStep(round);
      if (!completion) completion = await callModel(input, history, newMessages, context, transfers, round, model);
      usage = addUsage(usage, completion.usage);
      newMessages.push(completion.message);
      const calls = completion.message.tool_calls ?? [];
      if (calls.length === 0) {
        const output = completion.message.content ?? '';
        const after = firstMatchingRule(afterWorkOf(input), context.current, 'after-work');
        if (!after || after.target.type === 'terminate') return finish({ type: 'final', output });
        return await handoff({ target: after.target, reason: after.reason, source: 'after_work' }, output);
      }
      const answered = await answerToolCalls(calls, transfers, input, context, newMessages, round);
      if (answered.approvals.length > 0) return finish({ type: 'approval', calls: answered.approvals });
      if (answered.chosen) return await handoff(answered.chosen);
      if (answered.ranTools) await input.journal.recordRoundEnd(round);
    }
    const error = new ModelBehaviorError(`Agent "${agent.name}" made ${agent.maxToolRounds} model calls in one turn without an answer or a valid handoff.`, {
      details: { agent: agent.name, maxToolRounds: agent.maxToolRounds },
    });
    return finish({ type: 'failed', error: error.toJSON() });
  } catch (error) {
    if (error instanceof StaleHopError) throw error;
    if (isHandoffError(error)) return finish({ type: 'failed', error: error.toJSON() });
    throw error;
  }
}

/**
 * One live model call of round `round`, streamed; a response that asks for function or MCP tools is
 * journaled (a racing run's journaled response of the round, if it came first, is taken instead).
 */
async function callModel(input: JournaledInput, history: readonly Message[], newMessages: readonly Message[], context: TurnContext, transfers: readonly TransferTool[], round: number, model: ModelTime): Promise<CompletionOutcome> {
  const { agent, envelope } = input;
  // Instructions may be async (a function returning a promise); they see the context as of this round.
  const system = await systemMessages(agent, envelope, context.current);
  const callAt = hrNow();
  model.firstCallAt ??= callAt;
  let completion;
  try {
    completion = await inSpan('model call', { 'gen_ai.request.model': agent.resolvedModel.name, 'handoff.agent': agent.name, 'handoff.round': round }, async (span) => {
      const done = await streamCompletion({
        client: input.client,
        settings: agent.resolvedModel,
        agent: agent.name,
        messages: [...system, ...history, ...newMessages],
        tools: [...transfers.map((t) => t.tool), ...input.tools.map((t) => t.schema)],
        onTextDelta: (text) => input.events.text(text),
        signal: input.signal,
      });
      span.setAttributes({ 'gen_ai.usage.input_tokens': done.usage.promptTokens, 'gen_ai.usage.output_tokens': done.usage.completionTokens });
      return done;
    });
  } finally {
    model.lastReturnAt = hrNow();
    model.totalMs += model.lastReturnAt - callAt;
  }
  const asksForTools = completion.message.tool_calls?.some((call) => input.tools.some((tool) => tool.name === call.function.name));
  return asksForTools ? await input.journal.recordModel(round, completion) : completion;
}

/** The after-work rules of this turn: the agent's own, then its group's pattern or the network's. */
function afterWorkOf(input: TurnInput) {
  const group = input.envelope.group;
  if (!group) return input.agent.compiledAfterWork;
  return [...input.agent.compiledOwnAfterWork, ...input.network.patternAfterWork(group.pattern, input.agent.name, group.members)];
}

/** What one round of tool calls decided. */
interface Answered {
  chosen: Chosen | undefined;
  /** Calls that wait for a person's approval (they have no result yet). */
  approvals: { toolCallId: string; name: string; arguments: string }[];
  /** True when a function or MCP tool ran (or was replayed) in the round. */
  ranTools: boolean;
}

/** One call's answer before the round decides which handoff, if any, is taken. */
interface Candidate {
  content: string;
  isError: boolean;
  chosen?: Chosen;
}

const NOT_TAKEN = 'Not taken: another handoff in this turn came first; only the first handoff of a turn is carried out.';
const AWAITING = 'Not taken: other tool calls of this turn wait for approval; call it again after they are decided.';

/**
 * Answers the tool calls of one model response. Transfer calls are answered at once; tools run
 * concurrently — a tool marked sequential runs alone, after the calls before it — and calls that
 * need approval are held. Results keep the call order. The first call (in call order) that moves
 * control wins; later ones are answered as not taken.
 */
async function answerToolCalls(calls: readonly ToolCall[], transfers: readonly TransferTool[], input: JournaledInput, context: TurnContext, newMessages: Message[], round: number): Promise<Answered> {
  const { events, agent, envelope, journal } = input;
  // Events an earlier run of the hop wrote are not written again: a reported round's, a journaled call's tool.called.
  const reported = journal.roundReported(round);
  let ranTools = false;
  const candidates: (Promise<Candidate> | undefined)[] = [];
  const approvals: Answered['approvals'] = [];
  let inflight: Promise<Candidate>[] = [];
  let gate: Promise<unknown> = Promise.resolve();
  for (const call of calls) {
    if (!reported && !journal.hasToolResult(round, call.id)) events.emit({ type: 'tool.called', agent: agent.name, hopId: envelope.hopId, toolCallId: call.id, name: call.function.name, arguments: call.function.arguments });
    const transfer = transfers.find((t) => t.handoff.toolName === call.function.name);
    const tool = transfer ? undefined : input.tools.find((t) => t.name === call.function.name);
    if (transfer) {
      candidates.push(Promise.resolve(answerTransfer(call, transfer)));
    } else if (tool) {
      const parsed = parseToolArguments(call.function.arguments);
      if (parsed.ok && tool.needsApproval(parsed.value, context.current)) {
        approvals.push({ toolCallId: call.id, name: call.function.name, arguments: call.function.arguments });
        candidates.push(undefined);
        continue;
      }
      ranTools = true;
      const run = () => runTool(tool, call, input, context, round);
      if (tool.sequential) {
        const previous = inflight;
        const result = gate.then(() => Promise.all(previous)).then(run);
        gate = result;
        inflight = [result];
        candidates.push(result);
      } else {
        const result = gate.then(run);
        inflight.push(result);
        candidates.push(result);
      }
    } else {
      const known = [...transfers.map((t) => t.handoff.toolName), ...input.tools.map((t) => t.name)].join(', ') || '(none)';
      candidates.push(Promise.resolve({ content: `Error: there is no tool named "${call.function.name}". Available tools: ${known}.`, isError: true }));
    }
  }
  const answers = await Promise.all(candidates.map((c) => c ?? Promise.resolve(undefined)));
  let chosen: Chosen | undefined;
  calls.forEach((call, i) => {
    const answer = answers[i];
    if (!answer) return; // waits for approval
    let { content } = answer;
    if (answer.chosen) {
      if (approvals.length > 0) content = answer.chosen.source === 'llm_condition' ? AWAITING : `${content}\n(${AWAITING})`;
      else if (chosen) content = answer.chosen.source === 'llm_condition' ? NOT_TAKEN : `${content}\n(${NOT_TAKEN})`;
      else chosen = answer.chosen;
    }
    newMessages.push({ role: 'tool', tool_call_id: call.id, content });
    if (!reported) events.emit({ type: 'tool.result', agent: agent.name, hopId: envelope.hopId, toolCallId: call.id, name: call.function.name, result: content, isError: answer.isError || content !== answer.content });
  });
  return { chosen: approvals.length > 0 ? undefined : chosen, approvals, ranTools };
}

/** A transfer call's answer: an error for bad arguments, else the handoff it asks for. */
function answerTransfer(call: ToolCall, transfer: TransferTool): Candidate {
  const parsed = parseToolArguments(call.function.arguments);
  if (!parsed.ok) return { content: `Error: ${parsed.error}. Call ${call.function.name} again with a JSON object such as {"reason": "..."}.`, isError: true };
  const { reason: rawReason, ...rest } = parsed.value;
  let args: Record<string, JsonValue> | undefined;
  if (transfer.handoff.args) {
    const checked = transfer.handoff.args.safeParse(rest);
    if (!checked.success) return { content: `Error: invalid arguments for ${call.function.name}: ${formatIssues(checked.error).join('; ')}`, isError: true };
    args = checked.data as Record<string, JsonValue>;
  }
  const reason = typeof rawReason === 'string' && rawReason.trim() !== '' ? rawReason : `Transfer via ${call.function.name}`;
  const to = transfer.handoff.target.type === 'agent' ? transfer.handoff.target.agent : transfer.handoff.target.type;
  return { content: JSON.stringify({ assistant: to }), isError: false, chosen: { target: transfer.handoff.target, reason, source: 'llm_condition', ...(args ? { args } : {}) } };
}

/** Runs one tool call of round `round` through the journal; a reply result's target becomes a candidate handoff. */
async function runTool(tool: TurnTool, call: ToolCall, input: JournaledInput, context: TurnContext, round: number): Promise<Candidate> {
  const scope = { conversationId: input.envelope.conversationId, hopId: input.envelope.hopId, agent: input.agent.name, context, journal: input.journal, signal: input.signal, logger: input.logger };
  const step = await runJournaledToolCall(tool, call, round, scope);
  const candidate: Candidate = { content: step.content, isError: step.isError };
  return step.target ? { ...candidate, chosen: { target: step.target, reason: `${tool.name} returned a handoff`, source: 'tool' } } : candidate;
}

/**
 * Resumes a turn after approvals: the last assistant message's tool calls still without a result
 * are answered — approved ones run, rejected ones are answered as rejected — before the model goes on.
 */
async function answerApproved(
  history: readonly Message[],
  { approvals, callsHopId }: ApprovalResume,
  input: JournaledInput,
  context: TurnContext,
  newMessages: Message[],
): Promise<Chosen | undefined> {
  const answered = new Set(history.flatMap((m) => (m.role === 'tool' ? [m.tool_call_id] : [])));
  const last = [...input.history].reverse().find((m) => m.role === 'assistant' && m.tool_calls?.length);
  const waiting = (last?.role === 'assistant' ? (last.tool_calls ?? []) : []).filter((call) => !answered.has(call.id) && approvals[call.id] !== undefined);
  let chosen: Chosen | undefined;
  // Round 0 of the journal: the approved calls. Their results are journaled once, like any call's.
  const reported = input.journal.roundReported(0);
  let ranTools = false;
  for (const call of waiting) {
    const decision = approvals[call.id]!;
    const tool = input.tools.find((t) => t.name === call.function.name);
    let answer: Candidate;
    if (!decision.approved) answer = { content: `Rejected by the user${decision.reason ? `: ${decision.reason}` : ''}. Do not call it again unless they ask.`, isError: true };
    else if (!tool) answer = { content: `Error: the tool "${call.function.name}" is no longer available.`, isError: true };
    else {
      ranTools = true;
      answer = await runTool(tool, call, input, context, 0);
    }
    if (answer.chosen && !chosen) chosen = answer.chosen;
    newMessages.push({ role: 'tool', tool_call_id: call.id, content: answer.content });
    // The result names the hop that made the call, so that it is shown with it.
    const callHop = callsHopId !== undefined && callsHopId !== input.envelope.hopId ? { callHopId: callsHopId } : {};
    if (!reported) input.events.emit({ type: 'tool.result', agent: input.agent.name, hopId: input.envelope.hopId, ...callHop, toolCallId: call.id, name: call.function.name, result: answer.content, isError: answer.isError });
  }
  if (ranTools && !chosen) await input.journal.recordRoundEnd(0);
  return chosen;
}

/** The text of the last assistant message that has some, if any. */
function lastText(messages: readonly Message[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role === 'assistant' && message.content) return message.content;
  }
  return undefined;
}
