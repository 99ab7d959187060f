import type { RecordedRequest } from './recorded-request.js';
import type { ScriptRule } from './script-rule.js';

/** A rule together with how many more requests it may answer. */
interface RuleEntry {
  readonly rule: ScriptRule;
  remaining: number;
}

/**
 * The ordered rules of a scripted model. Rules are tried in order; the first whose `when` accepts
 * the request and that has uses left wins, and one of its uses is spent.
 */
export class RuleBook {
  readonly #entries: RuleEntry[] = [];

  /** @param rules - initial rules, in order */
  constructor(rules: readonly ScriptRule[] = []) {
    for (const rule of rules) this.append(rule);
  }

  /** Adds a rule after all others. */
  append(rule: ScriptRule): void {
    this.#entries.push(RuleBook.#entry(rule));
  }

  /** Adds a rule before all others. */
  prepend(rule: ScriptRule): void {
    this.#entries.unshift(RuleBook.#entry(rule));
  }

  /** Removes every rule. */
  clear(): void {
    this.#entries.length = 0;
  }

  /**
   * Finds the rule that answers `req` and spends one of its uses.
   *
   * @returns the rule, or `undefined` when none matches
   */
  take(req: RecordedRequest): ScriptRule | undefined {
    for (const entry of this.#entries) {
      if (entry.remaining <= 0) continue;
      if (entry.rule.when && !entry.rule.when(req)) continue;
      entry.remaining -= 1;
      return entry.rule;
    }
    return undefined;
  }

  static #entry(rule: ScriptRule): RuleEntry {
    const times = rule.times ?? Number.POSITIVE_INFINITY;
    if (!(times >= 0)) throw new RangeError(`scripted model: rule times must be >= 0, got ${String(rule.times)}`);
    // A hold only says when to answer; its rejection is expected and must not surface as unhandled
    // while the rule waits for a request.
    if (typeof rule.reply === 'object') rule.reply.hold?.catch(() => {});
    return { rule, remaining: times };
  }
}
