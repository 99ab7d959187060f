import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { NewEvent } from '@handoff/core';
import type { CoordinatorObserver } from '../coordinator/coordinator.js';
import type { ReconcilerObserver, Repair } from '../coordinator/reconciler.js';
import type { ArchiveOutcome, ArchiverObserver } from '../coordinator/archiver.js';

const LOOP_REASONS = new Set(['max_hops_exceeded', 'ping_pong_detected', 'max_visits_exceeded', 'deadline_exceeded', 'token_budget_exceeded']);
const SECONDS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * The gateway's Prometheus metrics, fed by every step its coordinator applies: hops, handoffs per
 * edge, queue wait, turn and model time, failures, fallbacks, loop-limit stops. Each gateway
 * replica reports what it applied; Prometheus sums them.
 */
export class GatewayMetrics implements CoordinatorObserver, ReconcilerObserver, ArchiverObserver {
  readonly registry = new Registry();
  private readonly hops = new Counter({ name: 'handoff_hops_total', help: 'Agent turns applied, by agent and outcome', labelNames: ['agent', 'outcome'], registers: [this.registry] });
  private readonly handoffs = new Counter({ name: 'handoff_handoffs_total', help: 'Handoffs, by edge and the kind of rule that chose them', labelNames: ['from', 'to', 'source'], registers: [this.registry] });
  private readonly fallbacks = new Counter({ name: 'handoff_fallbacks_total', help: 'Failed steps sent to a fallback agent', labelNames: ['from', 'to'], registers: [this.registry] });
  private readonly failures = new Counter({ name: 'handoff_failures_total', help: 'Errors, by code', labelNames: ['code'], registers: [this.registry] });
  private readonly started = new Counter({ name: 'handoff_conversations_started_total', help: 'Conversations this gateway started, by entry agent (after routing)', labelNames: ['agent'], registers: [this.registry] });
  private readonly ended = new Counter({ name: 'handoff_conversations_ended_total', help: 'Conversations that stopped, by status and reason', labelNames: ['status', 'reason'], registers: [this.registry] });
  private readonly loopStops = new Counter({ name: 'handoff_loop_limit_stops_total', help: 'Conversations ended by a loop or budget limit', labelNames: ['reason'], registers: [this.registry] });
  private readonly queueWait = new Histogram({ name: 'handoff_queue_wait_seconds', help: 'Time a hop waited on its agent queue', labelNames: ['agent'], buckets: SECONDS, registers: [this.registry] });
  private readonly turnTime = new Histogram({ name: 'handoff_turn_seconds', help: 'Time a worker spent on a turn', labelNames: ['agent'], buckets: SECONDS, registers: [this.registry] });
  private readonly modelTime = new Histogram({ name: 'handoff_model_seconds', help: 'Time a turn spent in model calls', labelNames: ['agent'], buckets: SECONDS, registers: [this.registry] });

  private readonly repairs = new Counter({ name: 'handoff_reconciler_repairs_total', help: 'Stalled conversations the reconciler found, by what it did (republished, rerouted, resumed, no-live-worker, applied-stored-turn, applied-stored-start) and agent', labelNames: ['repair', 'agent'], registers: [this.registry] });

  private readonly archiveTries = new Counter({ name: 'handoff_archive_tries_total', help: 'Tries to archive a finished conversation, by outcome (archived; failed: left queued and retried; skipped: revived or gone from Redis)', labelNames: ['outcome'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'handoff_gateway_' });
  }

  stepApplied(events: readonly NewEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'agent.completed':
          this.hops.inc({ agent: event.agent, outcome: event.outcome });
          if (event.timing) {
            this.queueWait.observe({ agent: event.agent }, Math.max(0, event.timing.startedAt - event.timing.queuedAt) / 1000);
            this.turnTime.observe({ agent: event.agent }, Math.max(0, event.timing.finishedAt - event.timing.startedAt) / 1000);
            this.modelTime.observe({ agent: event.agent }, event.timing.modelMs / 1000);
          }
          break;
        case 'handoff':
          this.handoffs.inc({ from: event.from, to: event.to, source: event.source ?? 'llm_condition' });
          break;
        case 'fallback':
          this.fallbacks.inc({ from: event.from, to: event.to });
          break;
        case 'error':
          this.failures.inc({ code: event.error.code });
          break;
        case 'conversation.started':
          this.started.inc({ agent: event.entryAgent });
          break;
        case 'conversation.completed':
        case 'conversation.failed':
        case 'conversation.cancelled':
          this.ended.inc({ status: event.result.status, reason: event.result.reason });
          if (LOOP_REASONS.has(event.result.reason)) this.loopStops.inc({ reason: event.result.reason });
          break;
        default:
          break;
      }
    }
  }

  repaired(repair: Repair, agent: string | null): void {
    this.repairs.inc({ repair, agent: agent ?? '' });
  }

  archiveTried(outcome: ArchiveOutcome): void {
    this.archiveTries.inc({ outcome });
  }

  /** The metrics in Prometheus' text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
