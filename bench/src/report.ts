import type { DeploymentShapeMeasurement } from './scenarios/deployment-shape.js';
import { ratio, type Summary } from './stats.js';

/** Everything one bench run measured. */
export interface BenchReport {
  startedAt: string;
  mode: 'full' | 'smoke';
  machine: { cpus: number; cpuModel: string; node: string; redis: string };
  /** A raw BullMQ hop (1 KB and 64 KB), and a plain Redis list hop (LPUSH → BRPOP, 1 KB): what a hop off a job queue would start from. */
  floor?: { payload1KB: Summary; payload64KB: Summary; list1KB?: Summary };
  runtime?: Record<string, unknown>;
  /** Separate processes measured from the client: without and with one core-burning process. */
  deployment?: { quiet: DeploymentShapeMeasurement; loaded?: DeploymentShapeMeasurement };
  sdk?: Record<string, unknown>;
  history?: Record<string, unknown>;
  throughput?: unknown[];
  memory?: unknown;
  streaming?: unknown;
  /** The turn journal's cost: the same tool-calling chain with the journal on and off. */
  journal?: { on: JournalRow; off: JournalRow };
  /** Redis's instructions per handoff (callgrind), when valgrind is installed. */
  redisCost?: { handoffs: number; instructionsPerHandoff: number; commandsPerHandoff: number; scriptsPerHandoff: number };
  /** The same measurement of the build before the turn inbox (bench/results/history/02-before-turn-inbox.json). */
  redisCostBefore?: { handoffs: number; instructionsPerHandoff: number; commandsPerHandoff: number; scriptsPerHandoff: number; commit?: string };
  /** The same measurement of the build before the hop lane (bench/results/history/04-before-hop-lane.json). */
  redisCostBeforeLane?: { handoffs: number; instructionsPerHandoff: number; commandsPerHandoff: number; scriptsPerHandoff: number; commit?: string };
  targets?: TargetResult[];
  /** An earlier run to compare with (the design before history by reference). */
  baseline?: BenchReport;
  notes?: string[];
}

/** One side of the journal comparison (see bench/src/scenarios/journal.ts). */
export interface JournalRow {
  handoff: Summary;
  toolCall: Summary;
  commandsPerHandoff: number;
  scriptsPerHandoff: number;
}

/** A target of the issue, with the measured value and whether it was met. */
export interface TargetResult {
  target: string;
  measured: string;
  met: boolean;
}

const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : `${x.toFixed(3)} ms`);

/** A Markdown table row. */
function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** Renders a report as Markdown. */
export function toMarkdown(report: BenchReport): string {
  const lines: string[] = [];
  lines.push(`# Handoff benchmark (${report.mode})`, '');
  lines.push(`Run ${report.startedAt} on ${report.machine.cpus}× ${report.machine.cpuModel}, Node ${report.machine.node}, Redis ${report.machine.redis} on loopback.`, '');
  if (report.targets) {
    lines.push('## Targets', '', row(['target', 'measured', 'met']), row(['---', '---', '---']));
    for (const t of report.targets) lines.push(row([t.target, t.measured, t.met ? 'yes' : '**no**']));
    lines.push('');
  }
  const summaryTable = (title: string, entries: [string, Summary | undefined][]) => {
    lines.push(`## ${title}`, '', row(['', 'p50', 'p90', 'p99', 'mean', 'n']), row(['---', '---', '---', '---', '---', '---']));
    for (const [name, s] of entries) if (s) lines.push(row([name, ms(s.p50), ms(s.p90), ms(s.p99), ms(s.mean), s.n]));
    lines.push('');
  };
  if (report.floor) summaryTable('Floor: one raw BullMQ hop (add → processor entry), and one plain Redis list hop (LPUSH → BRPOP)', [['1 KB payload', report.floor.payload1KB], ['64 KB payload', report.floor.payload64KB], ['plain list, 1 KB payload', report.floor.list1KB]]);
  if (report.deployment) {
    const runs = Object.entries(report.deployment).filter((entry): entry is [string, DeploymentShapeMeasurement] => entry[1] !== undefined);
    lines.push('## Deployment shape: per handoff as users run it (separate processes, measured from the client)', '');
    lines.push('`handoff gateway`, `handoff worker --concurrency 4` and the scripted model as separate processes; `createClient` in the bench process starts each conversation and awaits `result()`. A 6-agent chain (A5 → … → A10 answers: 5 handoffs) and a single-agent conversation alternate, one at a time, each followed by a streamed model round trip with a tool call and one with text, from the bench process. Per handoff = (chain p50 − single p50 − 5 × tool-call round trip p50) / 5; fixed cost = single p50 − text round trip p50.', '');
    lines.push(row(['run', 'per handoff', 'single fixed cost', 'chain p50', 'single p50', 'model tool call p50', 'model text p50', 'load avg (1 min) before → after', 'n']), row(['---', '---', '---', '---', '---', '---', '---', '---', '---']));
    for (const [name, d] of runs) {
      const label = d.backgroundBusyProcesses > 0 ? `${name} (${d.backgroundBusyProcesses} core-burning process)` : `${name} (no added load)`;
      lines.push(row([label, ms(d.perHandoffMs), ms(d.singleFixedCostMs), ms(d.chain.p50), ms(d.single.p50), ms(d.modelToolCall.p50), ms(d.modelAnswer.p50), `${d.loadAverage.before} → ${d.loadAverage.after}`, d.chain.n]));
    }
    if (report.floor) lines.push('', `Raw BullMQ hop in the same run: ${ms(report.floor.payload1KB.p50)} p50; the quiet run's handoff is ${ratio(report.deployment.quiet.perHandoffMs, report.floor.payload1KB.p50)}× that.`);
    lines.push('');
  }
  const chainRows = (label: string, m: Record<string, unknown> | undefined): [string, Summary | undefined][] => {
    if (!m) return [];
    const out: [string, Summary | undefined][] = [];
    for (const [key, value] of Object.entries(m)) {
      const v = value as { handoff?: Summary; stages?: Record<string, Summary> };
      out.push([`${label} ${key}: per handoff`, v.handoff]);
      if (v.stages) for (const [stage, s] of Object.entries(v.stages)) out.push([`  ↳ ${stage}`, s]);
    }
    return out;
  };
  if (report.runtime || report.sdk) summaryTable('Per-handoff overhead, model time excluded (10-agent chain)', [...chainRows('Handoff', report.runtime), ...chainRows('Agents SDK', report.sdk)]);
  if (report.history) summaryTable('Per-handoff overhead by history size', chainRows('history', report.history));
  const redisRows = Object.entries({ ...(report.runtime ?? {}), ...Object.fromEntries(Object.entries(report.history ?? {}).map(([k, v]) => [`history ${k}`, v])) }).flatMap(([key, value]) => {
    const work = (value as { redis?: { commandsPerHandoff: number; scriptsPerHandoff: number; cpuMsPerHandoff: number } }).redis;
    return work ? [row([key, work.commandsPerHandoff, work.scriptsPerHandoff, `${work.cpuMsPerHandoff} ms`])] : [];
  });
  if (redisRows.length > 0) lines.push('## Redis work per handoff (commandstats and the server\'s CPU over the measured chains)', '', row(['run', 'commands', 'scripts (EVALSHA)', 'Redis CPU']), row(['---', '---', '---', '---']), ...redisRows, '');
  if (report.redisCost) {
    const after = report.redisCost;
    const before = report.redisCostBefore;
    lines.push('## Redis cost per handoff in instructions (redis-server under callgrind; 10-agent chain, 10 conversations at a time)', '');
    const beforeLane = report.redisCostBeforeLane;
    lines.push('Instructions are counted, not timed: the same work gives the same count however loaded the machine is.' + (before ? ` "Before" is the same scenario run against commit ${before.commit ?? '?'} (hops and turn results as BullMQ jobs), kept in \`bench/results/history/02-before-turn-inbox.json\`.` : '') + (beforeLane ? ` "Before the hop lane" is commit ${beforeLane.commit ?? '?'} (hops as BullMQ jobs, turn results on the turn inbox), kept in \`bench/results/history/04-before-hop-lane.json\`.` : ''), '');
    lines.push(row(['', 'instructions', 'commands', 'scripts (EVALSHA)']), row(['---', '---', '---', '---']));
    if (before) lines.push(row(['before', before.instructionsPerHandoff.toLocaleString('en'), before.commandsPerHandoff, before.scriptsPerHandoff]));
    if (beforeLane) lines.push(row(['before the hop lane', beforeLane.instructionsPerHandoff.toLocaleString('en'), beforeLane.commandsPerHandoff, beforeLane.scriptsPerHandoff]));
    lines.push(row(['now', after.instructionsPerHandoff.toLocaleString('en'), after.commandsPerHandoff, after.scriptsPerHandoff]));
    if (before) lines.push(row(['now / before', `${ratio(after.instructionsPerHandoff, before.instructionsPerHandoff)}×`, `${ratio(after.commandsPerHandoff, before.commandsPerHandoff)}×`, `${ratio(after.scriptsPerHandoff, before.scriptsPerHandoff)}×`]));
    if (beforeLane) lines.push(row(['now / before the hop lane', `${ratio(after.instructionsPerHandoff, beforeLane.instructionsPerHandoff)}×`, `${ratio(after.commandsPerHandoff, beforeLane.commandsPerHandoff)}×`, `${ratio(after.scriptsPerHandoff, beforeLane.scriptsPerHandoff)}×`]));
    lines.push('');
  }
  if (report.baseline?.history && report.history) {
    lines.push('## History size: before and after history by reference', '', 'Before: every envelope carried the whole history (run ' + report.baseline.startedAt + ', `bench/results/history/01-before-claim-check.md`). After: the envelope carries its length; workers read only the tail they have not cached.', '');
    lines.push(row(['history', 'before p50', 'after p50', 'before p99', 'after p99']), row(['---', '---', '---', '---', '---']));
    for (const key of Object.keys(report.history)) {
      const before = (report.baseline.history as Record<string, { handoff: Summary }>)[key]?.handoff;
      const after = (report.history as Record<string, { handoff: Summary }>)[key]?.handoff;
      lines.push(row([key, ms(before?.p50), ms(after?.p50), ms(before?.p99), ms(after?.p99)]));
    }
    lines.push('');
  }
  if (report.throughput) {
    lines.push('## Throughput (all processes on this machine)', '', row(['worker processes', 'in flight', 'handoffs/s', 'conversations/s', 'failed', 'CPU ms per handoff by process']), row(['---', '---', '---', '---', '---', '---']));
    for (const t of report.throughput as { workerProcesses: number; inFlight: number; handoffsPerSecond: number; conversationsPerSecond: number; failed: number; cpuMsPerHandoff: Record<string, number> }[]) {
      const cpu = Object.entries(t.cpuMsPerHandoff).map(([k, v]) => `${k} ${v}`).join(', ');
      lines.push(row([t.workerProcesses, t.inFlight, t.handoffsPerSecond, t.conversationsPerSecond, t.failed, cpu]));
    }
    lines.push('');
    // A projection, not a measurement: Redis's CPU per handoff under the heaviest load measured here,
    // and a deployment whose keys spread evenly over the shards (conversations by id, queues by name).
    const loaded = (report.throughput as { inFlight: number; cpuMsPerHandoff: Record<string, number> }[]).filter((t) => (t.cpuMsPerHandoff.redis ?? 0) > 0).sort((x, y) => y.inFlight - x.inFlight)[0];
    const redisMs = loaded?.cpuMsPerHandoff.redis;
    if (redisMs !== undefined) {
      const perShard = Math.floor(1000 / redisMs);
      lines.push(
        '## Projection: handoffs/s that Redis allows (one core per shard)',
        '',
        `From ${redisMs} ms of Redis CPU per handoff (the throughput run with ${loaded!.inFlight} in flight), if a shard's one thread were spent on nothing else and the keys spread evenly (each conversation's keys by its id, each queue by its name, the coordinator queue in at least as many partitions as shards). Workers and gateways scale out separately; the projection is the Redis ceiling only.`,
        '',
        row(['shards', 'handoffs/s (projected)']),
        row(['---', '---']),
        ...[1, 3, 10, 30].map((shards) => row([shards, perShard * shards])),
        '',
      );
    }
  }
  if (report.memory) lines.push('## Memory', '', '```json', JSON.stringify(report.memory, null, 2), '```', '');
  if (report.journal) {
    const { on, off } = report.journal;
    lines.push(
      '## Turn journal: its cost, on and off',
      '',
      'A 10-agent chain in which every agent calls a tool that does nothing, then hands off; one conversation at a time, in process. Gaps at the model server (answer sent → next request), in ms; Redis work per handoff (each handoff here includes one tool call).',
      '',
      row(['journal', 'handoff p50', 'handoff p99', 'tool call p50', 'tool call p99', 'commands / handoff', 'scripts / handoff']),
      row(['---', '---', '---', '---', '---', '---', '---']),
      ...([['on', on], ['off', off]] as const).map(([name, m]) => row([name, m.handoff.p50, m.handoff.p99, m.toolCall.p50, m.toolCall.p99, m.commandsPerHandoff, m.scriptsPerHandoff])),
      row(['on − off (p50)', Math.round((on.handoff.p50 - off.handoff.p50) * 1000) / 1000, '', Math.round((on.toolCall.p50 - off.toolCall.p50) * 1000) / 1000, '', Math.round((on.commandsPerHandoff - off.commandsPerHandoff) * 100) / 100, Math.round((on.scriptsPerHandoff - off.scriptsPerHandoff) * 100) / 100]),
      '',
    );
  }
  if (report.streaming) lines.push('## Streaming', '', '```json', JSON.stringify(report.streaming, null, 2), '```', '');
  if (report.notes?.length) lines.push('## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}
