import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { formatIssues, isReplyResult, replyResult, toTarget, type ContextVariables, type FunctionTool, type Target, type ToolContext } from '@handoff/core';
import { parseToolArguments } from './transfer-tools.js';
import type { TurnContext } from './turn-context.js';

/** What one function tool call produced. */
export interface ToolCallOutcome {
  /** The tool result the model sees. */
  content: string;
  isError: boolean;
  /** Where a reply result moves control, if it does. */
  target?: Target;
}

const schemas = new WeakMap<FunctionTool, ChatCompletionTool>();

/** The tool as the model sees it (its zod parameters as JSON Schema). */
export function toolSchema(tool: FunctionTool): ChatCompletionTool {
  let schema = schemas.get(tool);
  if (!schema) {
    const { $schema: _ignored, ...parameters } = z.toJSONSchema(tool.parameters) as Record<string, unknown>;
    schema = { type: 'function', function: { name: tool.name, description: tool.description, parameters } };
    schemas.set(tool, schema);
  }
  return schema;
}

/** What a call needs to know about its turn. */
export interface ToolCallScope {
  conversationId: string;
  hopId: string;
  agent: string;
  /** The turn's context variables (a call's patches go through it). */
  context: Pick<TurnContext, 'current' | 'apply'>;
  signal: AbortSignal | undefined;
  logger: ToolContext['logger'];
  /** `<hopId>:<toolCallId>`: the same on every run of the hop (see {@link ToolContext.idempotencyKey}). */
  idempotencyKey: string;
}

/**
 * Runs one function tool call: arguments that are not JSON or do not match the tool's schema, a
 * handler that throws, and a handler that outlives its timeout all become error results for the
 * model — never a crashed worker. A reply result's context patch is merged and its target returned.
 */
export async function runToolCall(tool: FunctionTool, rawArguments: string, scope: ToolCallScope): Promise<ToolCallOutcome> {
  const parsedJson = parseToolArguments(rawArguments);
  if (!parsedJson.ok) return { content: `Error: ${parsedJson.error}. Call ${tool.name} again with valid JSON arguments.`, isError: true };
  const args = tool.parameters.safeParse(parsedJson.value);
  if (!args.success) return { content: `Error: invalid arguments for ${tool.name}: ${formatIssues(args.error).join('; ')}`, isError: true };

  const controller = new AbortController();
  const onAbort = () => controller.abort(scope.signal?.reason);
  scope.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Settle with the timeout first, then tell the handler to stop.
        reject(new Error(`${tool.name} did not finish within ${tool.timeoutMs} ms`));
        controller.abort(new Error('timeout'));
      }, tool.timeoutMs);
    });
    const output = await Promise.race([
      Promise.resolve(
        tool.handler(args.data, {
          conversationId: scope.conversationId,
          hopId: scope.hopId,
          agent: scope.agent,
          idempotencyKey: scope.idempotencyKey,
          context: scope.context.current,
          setContext: (patch: ContextVariables) => scope.context.apply(patch),
          reply: replyResult,
          signal: controller.signal,
          logger: scope.logger,
        }),
      ),
      timeout,
    ]);
    if (isReplyResult(output)) {
      if (output.context) scope.context.apply(output.context);
      return { content: output.message, isError: false, ...(output.target === undefined ? {} : { target: toTarget(output.target) }) };
    }
    return { content: typeof output === 'string' ? output : JSON.stringify(output), isError: false };
  } catch (error) {
    return { content: `Error: ${tool.name} failed: ${error instanceof Error ? error.message : String(error)}`, isError: true };
  } finally {
    clearTimeout(timer);
    scope.signal?.removeEventListener('abort', onAbort);
  }
}
