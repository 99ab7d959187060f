import { InvalidContextError } from '../errors/index.js';
import type { ContextVariables } from '../schemas/json.js';
import type { NetworkDefinition } from './network.js';

/**
 * Checks a conversation's starting context against the network's context schema
 * (`defineNetwork({ context })`) and returns the schema's output (its defaults applied). A network
 * without a schema takes the context as it is. Clients call it to refuse a bad context early; the
 * coordinator calls it once more when it starts the conversation, and keeps that output.
 *
 * @throws {@link InvalidContextError} (INVALID_CONTEXT) naming every failing path
 * @example
 * ```ts
 * const context = validateContext(network, { userId: 42 });
 * ```
 */
export function validateContext(network: Pick<NetworkDefinition, 'name' | 'context'>, context: ContextVariables): ContextVariables {
  if (network.context === undefined) return context;
  const parsed = network.context.safeParse(context);
  if (parsed.success) return parsed.data as ContextVariables;
  throw new InvalidContextError(
    network.name,
    parsed.error.issues.map((issue) => ({ path: issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)', message: issue.message })),
  );
}
