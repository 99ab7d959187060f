#!/usr/bin/env node
// Generates docs/reference.md from the zod schemas and constants of the built packages, so that
// the reference cannot drift from the code: every event with its fields, every error code with
// its HTTP status and retryability, and every option of defineAgent / defineNetwork / model
// settings / conversation limits with its default, plus the runtime's timings and retries.
//
//   node scripts/generate-reference.mjs           writes docs/reference.md (run `pnpm build` first)
//   node scripts/generate-reference.mjs --check   exits 1 when docs/reference.md differs from what it would write
//
// `pnpm docs:reference` builds and writes it; tests/docs/reference.test.ts runs the check.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as core from '../packages/core/dist/index.js';
import { statusOf } from '../packages/gateway/dist/http/error-status.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../packages/redis/dist/reachability.js';

const OUTPUT = fileURLToPath(new URL('../docs/reference.md', import.meta.url));

/** Schemas exported by @handoff/core, by identity: a field of one of these types is shown by its name. */
const NAMED = new Map(Object.entries(core).filter(([, value]) => value && typeof value === 'object' && '_zod' in value).map(([name, schema]) => [schema, name]));

/** The zod definition of a schema. */
const def = (schema) => schema._zod.def;

/** Description and default a schema carries in its metadata (`.describe()`, `.meta()`), looking through wrappers. */
function metaOf(schema) {
  const found = { description: undefined, default: undefined };
  for (let s = schema; s; ) {
    const meta = typeof s.meta === 'function' ? s.meta() : undefined;
    found.description ??= (meta?.description ?? s.description)?.replace(/\s*@defaultValue.*$/, '');
    if (found.default === undefined && meta && 'default' in meta) found.default = meta.default;
    if (found.default === undefined && def(s).type === 'default') found.default = def(s).defaultValue;
    s = ['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch'].includes(def(s).type) ? def(s).innerType : undefined;
  }
  return found;
}

/** Whether a field may be left out. */
const isOptional = (schema) => ['optional', 'default', 'prefault'].includes(def(schema).type) || (def(schema).type === 'nullable' && isOptional(def(schema).innerType));

/** A short TypeScript-like type of a schema (a named core schema by its name below the top level). */
function typeOf(schema, top = true) {
  // A named schema, or a copy of one with a description of its own (`Waiting.describe(…)`), by its name.
  for (let s = schema; !top && s; s = s._zod.parent) if (NAMED.has(s)) return NAMED.get(s);
  const d = def(schema);
  switch (d.type) {
    case 'string':
      return d.format && d.format !== 'regex' ? `string (${d.format})` : 'string';
    case 'number':
      return d.checks?.some((check) => check._zod?.def?.format === 'safeint') ? 'integer' : 'number';
    case 'int':
      return 'integer';
    case 'boolean':
    case 'null':
    case 'unknown':
    case 'any':
    case 'undefined':
      return d.type;
    case 'literal':
      return d.values.map((value) => JSON.stringify(value)).join(' | ');
    case 'enum':
      return Object.values(d.entries).map((value) => JSON.stringify(value)).join(' | ');
    case 'optional':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      return NAMED.get(d.innerType) ?? typeOf(d.innerType, top);
    case 'nullable':
      return `${typeOf(d.innerType, false)} | null`;
    case 'array':
      return `${wrap(typeOf(d.element, false))}[]`;
    case 'record':
      return `Record<${typeOf(d.keyType, false)}, ${typeOf(d.valueType, false)}>`;
    case 'object':
      return `{ ${Object.keys(d.shape).join(', ')} }`;
    case 'union':
      return d.options.map((option) => typeOf(option, false)).join(' | ');
    case 'pipe':
      return typeOf(d.out, false);
    case 'lazy':
      return NAMED.get(schema) ?? 'JSON value';
    case 'custom':
      return 'custom (see the TSDoc)';
    default:
      return d.type;
  }
}

const wrap = (type) => (type.includes(' ') ? `(${type})` : type);

/** A Markdown table cell: pipes escaped, line breaks flattened. */
const cell = (text) => String(text ?? '').replaceAll('|', '\\|').replaceAll('\n', ' ');
const code = (text) => `\`${String(text).replaceAll('`', "'")}\``;
const shown = (value) => (value === undefined ? '—' : code(JSON.stringify(value)));

/** The rows of an options table: option, type, default, description. */
function optionRows(shape, prefix = '') {
  const rows = ['| option | type | default | description |', '|---|---|---|---|'];
  for (const [name, schema] of Object.entries(shape)) {
    const meta = metaOf(schema);
    rows.push(`| ${code(prefix + name)}${isOptional(schema) ? '' : ' (required)'} | ${cell(code(typeOf(schema, false)))} | ${cell(shown(meta.default))} | ${cell(meta.description ?? '')} |`);
  }
  return rows;
}

/** Every event type, with what it means and its fields. */
function eventsSection() {
  const lines = [
    '## Events',
    '',
    "Every event of a conversation's log (`handle.events()`, `GET /v1/conversations/:id/events` as Server-Sent Events, whose `event:` is the type and `id:` the event id).",
    'Every event also has `conversationId` (string) and `ts` (the time it was stored, ms since the epoch), and a stored event its `id` (`<milliseconds>-<sequence>`, what `events({ after })`, `Last-Event-ID` and `?after=` take).',
    `A stream ends after one of the terminal events (${[...core.TERMINAL_EVENT_TYPES].map(code).join(', ')}).`,
    '',
  ];
  for (const schema of core.RuntimeEvent.options) {
    const shape = def(schema).shape;
    lines.push(`### ${code(def(shape.type).values[0])}`, '', metaOf(schema).description ?? '', '');
    const fields = Object.entries(shape).filter(([name]) => !['conversationId', 'ts', 'type'].includes(name));
    if (fields.length === 0) {
      lines.push('No fields besides the common ones.', '');
      continue;
    }
    lines.push('| field | type | description |', '|---|---|---|');
    for (const [name, field] of fields) lines.push(`| ${code(name)}${isOptional(field) ? ' (optional)' : ''} | ${cell(code(typeOf(field, false)))} | ${cell(metaOf(field).description ?? '')} |`);
    lines.push('');
  }
  return lines;
}

/** Every error code, with its HTTP status and whether to retry. */
function errorsSection() {
  const lines = [
    '## Error codes',
    '',
    'Every error is a `HandoffError` with a `code`, a `message` that says what to fix, `retryable` and `details`; over HTTP the body is `{ "error": { "code", "message", "retryable", "details" } }` with the status below.',
    'Both clients throw the same class for a code (`createClient` over Redis, `createHttpClient` over HTTP).',
    '',
    '| code | HTTP status | retryable | meaning |',
    '|---|---|---|---|',
  ];
  for (const [name, info] of Object.entries(core.ERROR_CODE_INFO)) {
    const retryable = info.retryable === true ? 'yes' : info.retryable === false ? 'no' : info.retryable;
    lines.push(`| ${code(name)} | ${statusOf(name)} | ${cell(retryable)} | ${cell(info.meaning)} |`);
  }
  return [...lines, ''];
}

/** The options of the definitions and of a conversation's limits. */
function optionsSection() {
  return [
    '## Options',
    '',
    '### `defineAgent(options)`',
    '',
    ...optionRows(def(core.AgentConfig).shape),
    '',
    '### `defineNetwork(options)`',
    '',
    'Besides these: `agents` (required: the agents, from `defineAgent`) and `routers` (pools and capability routers by name).',
    '',
    ...optionRows(def(core.NetworkOptions).shape),
    '',
    '### Model settings (`model` of an agent or a network)',
    '',
    "An agent's settings are merged over the network's; `model: 'name'` is `{ name }`.",
    '',
    ...optionRows(def(core.ModelSettings).shape, 'model.'),
    '',
    '### Conversation limits (`limits` of a network, or of `client.start`)',
    '',
    "A conversation's own limits apply over the network's.",
    '',
    ...optionRows(def(core.ConversationLimits).shape, 'limits.'),
    '',
  ];
}

/** Timings, retries and bounds the runtime applies (constants; the CLI flags that change them are named). */
function runtimeSection() {
  const seconds = (ms) => `${ms / 1000} s`;
  const rows = [
    ['Model request retries before a turn fails (then the next fallback agent)', `${core.DEFAULT_MODEL_MAX_RETRIES} (per request, with backoff)`, '`model.maxRetries`'],
    ['Model request timeout', seconds(core.DEFAULT_MODEL_TIMEOUT_MS), '`model.timeoutMs`'],
    ['Model calls in one turn (tool rounds)', core.DEFAULT_MAX_TOOL_ROUNDS, '`maxToolRounds`'],
    ['Attempts of a hop whose turn throws, before it is dead-lettered (HOP_FAILED, or the next fallback)', core.HOP_JOB_ATTEMPTS, '—'],
    ['Times a hop may be recovered from a dead worker before it fails', core.DEFAULT_MAX_STALLED_COUNT, '`--max-stalled-count`'],
    ["Lease on a running turn's hop (renewed while it runs)", seconds(core.DEFAULT_LOCK_DURATION_MS), '`--lock-duration`'],
    ["How often hops whose lease ran out (a dead worker's) are looked for", seconds(core.DEFAULT_STALLED_INTERVAL_MS), '`--stalled-interval`'],
    ['Worker heartbeat interval', seconds(core.WORKER_HEARTBEAT_INTERVAL_MS), '—'],
    ['A worker counts as dead (its agent is routed around) after no heartbeat for', seconds(core.WORKER_HEARTBEAT_TTL_MS), '—'],
    ["Heartbeat entries of dead workers removed after", seconds(core.DEFAULT_WORKER_REAP_AGE_MS), '—'],
    ["A capability router keeps a text's classification for", `${core.DEFAULT_CLASSIFICATION_CACHE_SECONDS} s`, '`capabilityRouter({ cacheSeconds })`'],
    ["The group manager asks its model again, when a reply names no candidate or several, up to", core.DEFAULT_GROUP_MANAGER_ATTEMPTS, '`to.groupManager({ attempts })`'],
    ['Turn timeout', seconds(def(core.AgentConfig).shape.turnTimeoutMs._zod.def.defaultValue), '`turnTimeoutMs`'],
    ['SIGTERM: running turns may finish within', seconds(core.DEFAULT_DRAIN_TIMEOUT_MS), '`--drain-timeout`'],
    ['A command (message, approval, cancel) waits for a gateway to confirm it', seconds(core.DEFAULT_COMMAND_TIMEOUT_MS), '`commandTimeoutMs` of `createClient`'],
    ['One-shot CLI commands wait for Redis', seconds(DEFAULT_CONNECT_TIMEOUT_MS), '`--connect-timeout`, `HANDOFF_CONNECT_TIMEOUT_MS`'],
    ['Finished conversations (record, history) are kept', `${core.DEFAULT_RETENTION_SECONDS} s`, '`--retention`'],
    ['The event log of a finished conversation is kept', `${core.DEFAULT_EVENT_RETENTION_SECONDS} s`, '`--event-retention`'],
    ['A conversation without progress is checked by the reconciler after', seconds(core.DEFAULT_RECONCILE_AFTER_MS), '`--reconcile-after`'],
    ['The reconciler looks every', seconds(core.DEFAULT_RECONCILE_INTERVAL_MS), '`--reconcile-interval`'],
    ['Dead letters are kept at most', `${core.DEFAULT_DEAD_LETTER_MAX_AGE_MS / 86_400_000} days, ${core.DEFAULT_DEAD_LETTER_MAX_COUNT} letters`, '`--dlq-max-age`, `--dlq-max-count`'],
    ['Largest envelope (context and handoff arguments)', `${core.MAX_ENVELOPE_BYTES} bytes`, '—'],
    ['Largest coordinator job (a start request, a turn result)', `${core.MAX_COORDINATOR_JOB_BYTES} bytes`, '—'],
    ['Deepest nesting of a JSON value in context variables and handoff arguments', `${core.MAX_JSON_DEPTH} levels`, '—'],
    ['Events kept per conversation stream (about)', core.MAX_EVENTS_PER_CONVERSATION, '—'],
  ];
  return ['## Runtime timings, retries and bounds', '', '| what | default | set with |', '|---|---|---|', ...rows.map(([what, value, flag]) => `| ${cell(what)} | ${cell(value)} | ${cell(flag)} |`), ''];
}

/** The whole reference. */
export function generateReference() {
  return [
    '# Handoff reference',
    '',
    '<!-- Generated by scripts/generate-reference.mjs from the zod schemas and constants: do not edit by hand; run `pnpm docs:reference`. -->',
    '',
    ...eventsSection(),
    ...errorsSection(),
    ...optionsSection(),
    ...runtimeSection(),
  ].join('\n');
}

const generated = generateReference();
if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(OUTPUT, 'utf8');
  } catch {
    // missing: differs
  }
  if (committed !== generated) {
    const a = committed.split('\n');
    const b = generated.split('\n');
    const at = b.findIndex((line, i) => line !== a[i]);
    process.stderr.write(`docs/reference.md is not what the schemas say (first difference at line ${at + 1}:\n  committed: ${a[at] ?? '(end of file)'}\n  generated: ${b[at] ?? '(end of file)'}). Run pnpm docs:reference and commit it.\n`);
    process.exit(1);
  }
  process.stdout.write('docs/reference.md is up to date\n');
} else {
  writeFileSync(OUTPUT, generated);
  process.stdout.write(`wrote ${OUTPUT}\n`);
}
