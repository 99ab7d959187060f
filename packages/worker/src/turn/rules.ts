import type { CompiledRule, ContextVariables, Target } from '@handoff/core';

/** A rule that held, and why. */
export interface RuleMatch {
  target: Target;
  reason: string;
}

/** True when a rule's `available` predicate holds (or it has none). */
export function isAvailable(rule: { availableWhen: { evaluate(c: Readonly<ContextVariables>): boolean } | undefined }, context: Readonly<ContextVariables>): boolean {
  return rule.availableWhen === undefined || rule.availableWhen.evaluate(context);
}

/**
 * The first rule, in order, that is available and whose condition holds (a rule without a
 * condition always holds). A missing context variable is an error, not a silent false.
 */
export function firstMatchingRule(rules: readonly CompiledRule[], context: Readonly<ContextVariables>, kind: string): RuleMatch | undefined {
  for (const rule of rules) {
    if (!isAvailable(rule, context)) continue;
    if (rule.when && !rule.when.evaluate(context)) continue;
    return { target: rule.target, reason: rule.condition ? `${kind}: ${rule.condition}` : kind };
  }
  return undefined;
}
