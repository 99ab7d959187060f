import { inSpan, type ContextVariables, type JournalToolStep, type ToolCall } from '@handoff/core';
import type { ToolCallScope } from './function-tools.js';
import type { TurnContext } from './turn-context.js';
import type { TurnJournalRun } from './turn-journal-run.js';
import type { TurnTool } from './turn-tools.js';

/** What a tool call needs of its turn. */
export interface JournaledCallScope {
  conversationId: string;
  hopId: string;
  agent: string;
  context: TurnContext;
  journal: TurnJournalRun;
  signal: AbortSignal | undefined;
  logger: ToolCallScope['logger'];
}

/**
 * One tool call of model round `round`, through the turn journal: the journaled result when an
 * earlier (or a racing) run of the hop completed it — the context variables it set are applied
 * again — else the tool runs, with the idempotency key `<hopId>:<toolCallId>`, and its result, the
 * context it set and the target its reply result named are journaled.
 */
export async function runJournaledToolCall(tool: TurnTool, call: ToolCall, round: number, scope: JournaledCallScope): Promise<JournalToolStep> {
  const { context } = scope;
  const execute = async (): Promise<JournalToolStep> => {
    // The call's own context patches, recorded so that a replay can apply them again.
    const patch: ContextVariables = {};
    const recording = {
      get current() {
        return context.current;
      },
      apply(values: ContextVariables) {
        context.apply(values);
        Object.assign(patch, values);
      },
    };
    const callScope: ToolCallScope = { conversationId: scope.conversationId, hopId: scope.hopId, agent: scope.agent, context: recording, signal: scope.signal, logger: scope.logger, idempotencyKey: `${scope.hopId}:${call.id}` };
    const done = await inSpan(`tool call ${tool.name}`, { 'handoff.tool': tool.name, 'handoff.tool_call_id': call.id }, (span) =>
      tool.run(call.function.arguments, callScope).then((outcome) => {
        if (outcome.isError) span.setAttribute('handoff.tool_error', true);
        return outcome;
      }),
    );
    return { content: done.content, isError: done.isError, ...(done.target ? { target: done.target } : {}), ...(Object.keys(patch).length > 0 ? { context: patch } : {}) };
  };
  const { step, replayed } = await scope.journal.runTool(round, call.id, tool.timeoutMs, scope.signal, execute);
  if (replayed && step.context) context.apply(step.context);
  return step;
}
