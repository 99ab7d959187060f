import type { ContextVariables } from '@handoff/core';

/**
 * The context variables during one turn: the envelope's values plus the patches tools made so far.
 * Conditions and later tools see the patched values; the patch travels with the turn result.
 */
export class TurnContext {
  private readonly values: ContextVariables;
  private readonly patch: ContextVariables = {};

  constructor(initial: ContextVariables) {
    this.values = { ...initial };
  }

  /** The current values. */
  get current(): Readonly<ContextVariables> {
    return this.values;
  }

  /** Merges a patch (shallow, like AG2's ContextVariables.update). */
  apply(patch: ContextVariables): void {
    Object.assign(this.values, patch);
    Object.assign(this.patch, patch);
  }

  /** What the turn changed, or undefined when nothing. */
  get changes(): ContextVariables | undefined {
    return Object.keys(this.patch).length > 0 ? { ...this.patch } : undefined;
  }
}
