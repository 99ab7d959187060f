import type { ConversationRecord, ErrorJson, NetworkDefinition } from '@handoff/core';

/** Error codes after which a step is worth trying on a fallback agent. */
const FALLBACK_CODES = new Set(['MODEL_UNAVAILABLE', 'MODEL_BEHAVIOR', 'HOP_FAILED', 'TURN_TIMEOUT', 'MODEL_REQUEST_REJECTED']);

/** True when a failed turn may be retried on another agent. */
export function worthFallingBack(error: ErrorJson): boolean {
  return FALLBACK_CODES.has(error.code);
}

/**
 * The next agent to try for a step that failed on `failedAgent`: the first of the primary agent's
 * fallbacks (the primary is the first agent that failed this step) that has not been tried yet.
 */
export function nextFallback(network: NetworkDefinition, record: ConversationRecord, failedAgent: string): string | undefined {
  const primary = record.failures[0]?.agent ?? failedAgent;
  const tried = new Set([...record.failures.map((f) => f.agent), failedAgent]);
  return network.agent(primary, 'fallback').fallbacks.find((agent) => !tried.has(agent));
}
