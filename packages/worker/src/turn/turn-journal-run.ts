import { JournalModelStep, JournalToolStep, StaleHopError, TOOL_CLAIM_MARGIN_MS, TOOL_CLAIM_POLL_MS, parseBoundary } from '@handoff/core';
import type { JournalHop, TurnJournal } from '@handoff/redis';
import type { Logger } from 'pino';
import type { TurnEvents } from './turn-events.js';

/** Where a re-run of a hop picks up: what the journal let it replay. */
export interface ResumePoint {
  /** The model round in which the run goes on live. */
  round: number;
  /** Model responses replayed. */
  modelCalls: number;
  /** Tool results replayed. */
  toolResults: number;
}

/** What a tool call produced, as a run of the turn uses it. */
export interface ToolStepOutcome {
  step: JournalToolStep;
  /** True when the result came from the journal (this run did not run the tool). */
  replayed: boolean;
}

const modelField = (round: number) => `r${round}.model`;
const toolField = (round: number, callId: string) => `r${round}.tool.${callId}`;
const endField = (round: number) => `r${round}.end`;

/**
 * One run's view of its hop's turn journal. Steps are named by model round: `r<n>.model` (the
 * n-th model response of the turn), `r<n>.tool.<callId>` (a tool result of that response; round 0
 * holds the calls a resumed approval answers) and `r<n>.end` (the round's results were reported).
 *
 * What is journaled, and when: a model response only when it asks for function or MCP tools (a
 * response that ends the turn is carried by the turn result itself); each tool result as soon as
 * its call finished; the end of a round once its `tool.result` events are out. Each write carries
 * the turn's events not yet written, appended in the same step, so that whatever the journal
 * holds, the events it stands for are in the log: a replayed step emits nothing again.
 *
 * Racing runs of one hop (a worker paused past its lock, then resumed while the hop is still
 * pending): the first journal entry of a field wins and the other run adopts it; a tool call is
 * claimed before it runs (a key set if absent, living for the tool's timeout plus
 * {@link TOOL_CLAIM_MARGIN_MS}), so the other run waits for its result instead of running it too.
 * A write or claim for a hop that is no longer pending throws {@link StaleHopError}.
 */
export class TurnJournalRun {
  /** False when the journal is off for this worker, or after it refused an entry as too large. */
  private enabled: boolean;

  private constructor(
    private readonly journal: TurnJournal | undefined,
    private readonly hop: JournalHop,
    private readonly events: TurnEvents | undefined,
    private readonly token: string,
    private readonly logger: Logger | undefined,
    private readonly entries: Map<string, string>,
  ) {
    this.enabled = journal !== undefined;
  }

  /**
   * The journal of a run identified by `token`: with `read`, what earlier runs of the hop journaled
   * is read first (one round trip); a hop's first run skips it (nothing can be there yet).
   */
  static async open(journal: TurnJournal, hop: JournalHop, events: TurnEvents, token: string, logger: Logger, read = true): Promise<TurnJournalRun> {
    return new TurnJournalRun(journal, hop, events, token, logger, read ? await journal.read(hop) : new Map());
  }

  /** A run without a journal: every step is live and nothing is written. */
  static off(hop: JournalHop): TurnJournalRun {
    return new TurnJournalRun(undefined, hop, undefined, '', undefined, new Map());
  }

  /** Where this run picks up, or undefined when the journal held nothing for it. */
  get resumePoint(): ResumePoint | undefined {
    let modelCalls = 0;
    let toolResults = 0;
    let round = 0;
    for (const field of this.entries.keys()) {
      const match = /^r(\d+)\.(model|tool|end)/.exec(field);
      if (!match) continue;
      const n = Number(match[1]);
      if (match[2] === 'model') modelCalls++;
      if (match[2] === 'tool') toolResults++;
      round = Math.max(round, match[2] === 'end' ? n + 1 : n);
    }
    return modelCalls + toolResults === 0 ? undefined : { round: Math.max(round, 1), modelCalls, toolResults };
  }

  /** The journaled model response of `round`, if any. */
  modelStep(round: number): JournalModelStep | undefined {
    const raw = this.entries.get(modelField(round));
    return raw === undefined ? undefined : parseBoundary(JournalModelStep, JSON.parse(raw), `Turn journal entry ${modelField(round)} of ${this.hop.hopId}`);
  }

  /** Journals the model response of `round`; returns the one to go on with (a racing run's, when it journaled first). */
  async recordModel(round: number, step: JournalModelStep): Promise<JournalModelStep> {
    const adopted = await this.write(modelField(round), JSON.stringify(step));
    return adopted === undefined ? step : parseBoundary(JournalModelStep, JSON.parse(adopted), `Turn journal entry ${modelField(round)} of ${this.hop.hopId}`);
  }

  /** True when the journal holds a result of this call already (so its `tool.called` event is in the log). */
  hasToolResult(round: number, callId: string): boolean {
    return this.entries.has(toolField(round, callId));
  }

  /** True when round `round`'s results were reported (its events are in the log). */
  roundReported(round: number): boolean {
    return this.entries.has(endField(round));
  }

  /** Marks round `round`'s results as reported. */
  async recordRoundEnd(round: number): Promise<void> {
    if (!this.roundReported(round)) await this.write(endField(round), '1');
  }

  /**
   * One tool call, at most once across runs of the hop: its journaled result when there is one;
   * else the call is claimed and `run` runs, and its result is journaled (dropping the claim in the
   * same step). While another run holds the claim, this one waits for its result (or for the
   * claim to lapse). A result of a run aborted meanwhile is not journaled: the claim is dropped.
   */
  async runTool(round: number, callId: string, timeoutMs: number, signal: AbortSignal | undefined, run: () => Promise<JournalToolStep>): Promise<ToolStepOutcome> {
    const field = toolField(round, callId);
    const known = this.entries.get(field);
    if (known !== undefined) return { step: this.parseTool(field, known), replayed: true };
    if (!this.enabled || !this.journal) return { step: await run(), replayed: false };
    const journal = this.journal;
    for (;;) {
      signal?.throwIfAborted();
      const claim = await journal.claim(this.hop, field, this.token, timeoutMs + TOOL_CLAIM_MARGIN_MS);
      if (claim.status === 'stale') throw new StaleHopError(this.hop.hopId, this.hop.agent);
      if (claim.status === 'done') return { step: this.parseTool(field, claim.value), replayed: true };
      if (claim.status === 'claimed') break;
      await new Promise((resolve) => setTimeout(resolve, TOOL_CLAIM_POLL_MS));
    }
    let step: JournalToolStep;
    try {
      step = await run();
    } catch (error) {
      await journal.release(this.hop, field, this.token).catch(() => undefined);
      throw error;
    }
    if (signal?.aborted) {
      await journal.release(this.hop, field, this.token).catch(() => undefined);
      return { step, replayed: false };
    }
    const adopted = await this.write(field, JSON.stringify(step), this.token);
    return adopted === undefined ? { step, replayed: false } : { step: this.parseTool(field, adopted), replayed: true };
  }

  /** Writes one entry after the events before it; returns a racing run's entry when it came first. */
  private async write(field: string, value: string, claimToken?: string): Promise<string | undefined> {
    if (!this.enabled || !this.journal) return undefined;
    // The events before the entry go with it, in one step (those sent earlier land first: same connection).
    const outcome = await this.journal.record(this.hop, field, value, claimToken, this.events?.takeRest() ?? []);
    if (outcome.status === 'stale') throw new StaleHopError(this.hop.hopId, this.hop.agent);
    if (outcome.status === 'full') {
      this.logger?.warn({ field }, 'turn journal full: the rest of this turn runs unjournaled');
      this.enabled = false;
      if (claimToken) await this.journal.release(this.hop, field, claimToken).catch(() => undefined);
      return undefined;
    }
    this.entries.set(field, outcome.status === 'exists' ? outcome.value : value);
    return outcome.status === 'exists' ? outcome.value : undefined;
  }

  private parseTool(field: string, raw: string): JournalToolStep {
    return parseBoundary(JournalToolStep, JSON.parse(raw), `Turn journal entry ${field} of ${this.hop.hopId}`);
  }
}
