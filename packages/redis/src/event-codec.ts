/**
 * How events are stored: compact JSON, without what the storage already says, and — once a turn
 * is done — with references to the history instead of copies of it.
 *
 * Every stored event omits `conversationId` (its key says it) and `ts` (the time part of its id:
 * when it was stored, by the Redis clock); a hop id `<conversation>.h<n>` is kept as `"hop": n`
 * (or not at all where `seq` gives it); `timing` is a tuple. Besides, the coordinator's apply step
 * stores `conversation.started`'s input as the index of the history message that holds it, and a
 * terminal event without its result when the record holds the same result.
 *
 * When a conversation ends, its log is compacted ({@link compactEventLog}): the text deltas of a
 * turn that was applied become one delta that refers to the turn's messages in the history, and
 * tool calls and results that are in the history refer to their message. Readers get every
 * event whole ({@link resolveEvents}): the references are read back from the history and record.
 * @module
 */
import {
  TERMINAL_EVENT_TYPES,
  hopId as hopIdOf,
  messageText,
  resultOfRecord,
  RuntimeEvent,
  type ConversationRecord,
  type Message,
  type NewEvent,
  type StoredEvent,
  type TurnTiming,
} from '@handoff/core';

/** An event as stored, parsed but not yet expanded. */
export type StoredFields = Record<string, unknown>;

/** Event types whose hop id follows from their `seq`. */
const HOP_BY_SEQ: ReadonlySet<string> = new Set(['agent.started', 'agent.completed', 'handoff']);

/** What an apply step knows that makes its events smaller. */
export interface EncodeContext {
  /** A turn's messages in the history (first index, count): recorded on the turn's `agent.completed` for the compaction. */
  turnMessages?: { seq: number; from: number; count: number };
  /** A start's messages (the first of the history): `conversation.started` refers to the one holding its input. */
  startMessages?: readonly Message[];
  /** The record once the step is applied: a terminal event with the record's result is stored without it. */
  record?: ConversationRecord;
}

/** The hop number of a hop id of this conversation (`<conversation>.h<n>`), if it is one. */
function hopNumber(conversationId: string, hopId: string): number | undefined {
  const prefix = `${conversationId}.h`;
  if (!hopId.startsWith(prefix)) return undefined;
  const rest = hopId.slice(prefix.length);
  return /^[1-9]\d{0,8}$/.test(rest) ? Number(rest) : undefined;
}

const round = (n: number) => Math.round(n * 10) / 10;

function packTiming(timing: TurnTiming): (number | null)[] {
  const q = timing.queuedAt;
  const rel = (t: number | null) => (t === null ? null : round(t - q));
  return [round(q), rel(timing.startedAt), rel(timing.firstModelCallAt), rel(timing.lastModelReturnAt), round(timing.modelMs), rel(timing.finishedAt)];
}

function unpackTiming(packed: unknown): unknown {
  if (!Array.isArray(packed)) return packed;
  const [q, started, first, last, modelMs, finished] = packed as (number | null)[];
  const abs = (t: number | null | undefined) => (t === null || t === undefined ? null : round((q ?? 0) + t));
  return { queuedAt: q, startedAt: abs(started), firstModelCallAt: abs(first), lastModelReturnAt: abs(last), modelMs, finishedAt: abs(finished) };
}

/** The stored JSON of an event. */
export function encodeStoredEvent(conversationId: string, event: NewEvent, context: EncodeContext = {}): string {
  const fields: StoredFields = { ...event };
  delete fields.conversationId;
  delete fields.ts;
  if (typeof fields.hopId === 'string') {
    if (typeof fields.seq === 'number' && HOP_BY_SEQ.has(event.type) && fields.hopId === hopIdOf(conversationId, fields.seq)) {
      delete fields.hopId;
    } else {
      const n = hopNumber(conversationId, fields.hopId);
      if (n !== undefined) {
        delete fields.hopId;
        fields.hop = n;
      }
    }
  }
  // Values at their usual default are left out: a first attempt, a tool result that is no error.
  if (event.type === 'tool.result' && !event.isError) delete fields.isError;
  if (event.type === 'agent.started' && event.attempt === 1) delete fields.attempt;
  if (event.type === 'agent.completed') {
    if (event.timing) fields.timing = packTiming(event.timing);
    const turn = context.turnMessages;
    if (turn && turn.seq === event.seq && turn.count > 0) fields.msgs = [turn.from, turn.count];
  }
  if (event.type === 'conversation.started' && event.input !== undefined && context.startMessages) {
    const index = context.startMessages.findLastIndex((m) => m.role === 'user' && messageText(m) === event.input);
    if (index >= 0) fields.input = index;
  }
  if (TERMINAL_EVENT_TYPES.has(event.type) && context.record && 'result' in event) {
    const held = resultOfRecord(context.record);
    if (held !== null && JSON.stringify(held) === JSON.stringify(event.result)) delete fields.result;
  }
  return JSON.stringify(fields);
}

/** The hop id an event stored as `fields` belongs to, if any. */
function hopOf(conversationId: string, fields: StoredFields): string | undefined {
  if (typeof fields.hopId === 'string') return fields.hopId;
  if (typeof fields.hop === 'number') return hopIdOf(conversationId, fields.hop);
  if (typeof fields.seq === 'number' && HOP_BY_SEQ.has(String(fields.type))) return hopIdOf(conversationId, fields.seq);
  return undefined;
}

/** The stored fields of an event with what needs no other key expanded: conversation, time, hop id, timing. */
export function expandStoredEvent(conversationId: string, id: string, json: string): StoredFields {
  const fields = JSON.parse(json) as StoredFields;
  const hop = hopOf(conversationId, fields);
  const expanded: StoredFields = { ...fields, conversationId: fields.conversationId ?? conversationId, ts: fields.ts ?? Number(id.split('-')[0]) };
  if (hop !== undefined) expanded.hopId = hop;
  delete expanded.hop;
  if (Array.isArray(fields.timing)) expanded.timing = unpackTiming(fields.timing);
  if (fields.type === 'agent.started') expanded.attempt ??= 1;
  if (fields.type === 'tool.result') expanded.isError ??= false;
  return expanded;
}

/** The history entries (raw JSON) and the record the references of some events need. */
export interface ReferenceReader {
  /** Raw history entries by index (missing ones are absent). */
  history(indexes: readonly number[]): Promise<Map<number, string>>;
  /** The conversation's record, or null. */
  record(): Promise<ConversationRecord | null>;
}

/** Indexes of the history entries that an expanded event refers to. */
function referencedIndexes(fields: StoredFields): number[] {
  switch (fields.type) {
    case 'text.delta':
      if (Array.isArray(fields.msgs) && typeof fields.text !== 'string') {
        const [from, count] = fields.msgs as number[];
        return Array.from({ length: count ?? 0 }, (_, k) => (from ?? 0) + k);
      }
      return [];
    case 'tool.called':
      return typeof fields.msg === 'number' ? [fields.msg] : [];
    case 'tool.result':
      return typeof fields.msg === 'number' ? [fields.msg] : Array.isArray(fields.msg) ? (fields.msg as number[]) : [];
    case 'conversation.started':
      return typeof fields.input === 'number' ? [fields.input] : [];
    default:
      return [];
  }
}

function parseEntry(raw: string | undefined): Message | undefined {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as Message;
  } catch {
    return undefined;
  }
}

/**
 * Events whole, from stored entries (`[id, JSON]`, in order): references to the history and the
 * record are read (in one go) and put back. An entry that cannot be read whole is left out.
 */
export async function resolveEvents(conversationId: string, entries: readonly (readonly [string, string])[], refs: ReferenceReader): Promise<StoredEvent[]> {
  const expanded = entries.map(([id, json]) => ({ id, fields: expandStoredEvent(conversationId, id, json) }));
  const indexes = [...new Set(expanded.flatMap((e) => referencedIndexes(e.fields)))];
  const needsRecord = expanded.some((e) => TERMINAL_EVENT_TYPES.has(e.fields.type as RuntimeEvent['type']) && e.fields.result === undefined);
  const [history, record] = await Promise.all([
    indexes.length > 0 ? refs.history(indexes) : Promise.resolve(new Map<number, string>()),
    needsRecord ? refs.record() : Promise.resolve(null),
  ]);
  const message = (index: unknown) => (typeof index === 'number' ? parseEntry(history.get(index)) : undefined);
  const events: StoredEvent[] = [];
  for (const { id, fields } of expanded) {
    switch (fields.type) {
      case 'text.delta':
        if (typeof fields.text !== 'string' && Array.isArray(fields.msgs)) {
          const [from, count] = fields.msgs as number[];
          let text = '';
          for (let k = 0; k < (count ?? 0); k++) {
            const m = message((from ?? 0) + k);
            if (m?.role === 'assistant') text += messageText(m);
          }
          fields.text = text;
        }
        break;
      case 'tool.called':
        if (typeof fields.msg === 'number') {
          const m = message(fields.msg);
          const call = m?.role === 'assistant' ? m.tool_calls?.find((c) => c.id === fields.toolCallId) : undefined;
          if (call) {
            fields.name = call.function.name;
            fields.arguments = call.function.arguments;
          }
        }
        break;
      case 'tool.result': {
        // `msg`: the tool message, or [the tool message, the assistant message that made the call].
        const [at, callAt] = Array.isArray(fields.msg) ? (fields.msg as number[]) : [fields.msg];
        const m = message(at);
        if (m && fields.result === undefined) fields.result = messageText(m);
        if (fields.name === undefined) {
          const caller = message(callAt);
          fields.name = (caller?.role === 'assistant' ? caller.tool_calls?.find((c) => c.id === fields.toolCallId)?.function.name : undefined) ?? '';
        }
        break;
      }
      case 'conversation.started':
        if (typeof fields.input === 'number') {
          const m = message(fields.input);
          if (m?.role === 'user') fields.input = messageText(m);
          else delete fields.input;
        }
        break;
      default:
        if (TERMINAL_EVENT_TYPES.has(fields.type as RuntimeEvent['type']) && fields.result === undefined && record) {
          const result = resultOfRecord(record);
          if (result) fields.result = result;
        }
    }
    const parsed = RuntimeEvent.safeParse(fields);
    if (parsed.success) events.push({ ...parsed.data, id });
  }
  return events;
}

interface Item {
  id: string | null;
  fields: StoredFields;
  drop?: boolean;
}

/** What {@link compactEventLog} makes. */
export interface CompactedLog {
  /** `<id> <JSON>` lines of the entries that were in the stream, in order (ids written as {@link idToken}). */
  lines: string[];
  /** The id of the last line ('' when there is none). */
  lastId: string;
  /** The stored JSON of the step's own events, as the compacted log keeps them (their ids come when they are added). */
  stepEvents: string[];
}

/**
 * The event log of a conversation that ends, compacted: for every turn that was applied (its
 * `agent.completed` says where its messages are in the history), the text deltas become one delta
 * at the last one's id that refers to the turn's messages — when the history holds the text they
 * streamed (a delta that had not landed yet counts as streamed) — and tool calls and results that
 * the history holds refer to their message. Everything else is kept as it was.
 *
 * @param entries the stream's entries (`[id, stored JSON]`), in order
 * @param history every history entry once the step is applied (raw JSON)
 * @param stepEvents the stored JSON of the step's events (they follow the entries)
 */
export function compactEventLog(conversationId: string, entries: readonly (readonly [string, string])[], history: readonly string[], stepEvents: readonly string[]): CompactedLog {
  const items: Item[] = [
    ...entries.map(([id, json]) => ({ id, fields: JSON.parse(json) as StoredFields })),
    ...stepEvents.map((json) => ({ id: null, fields: JSON.parse(json) as StoredFields })),
  ];
  const turns = new Map<string, [number, number]>();
  for (const item of items) {
    const hop = hopOf(conversationId, item.fields);
    if (item.fields.type === 'agent.completed' && hop !== undefined && Array.isArray(item.fields.msgs)) turns.set(hop, item.fields.msgs as [number, number]);
  }
  for (const [hop, [from, count]] of turns) {
    const messages: (Message | undefined)[] = history.slice(from, from + count).map((raw) => parseEntry(raw));
    if (messages.length !== count || messages.some((m) => m === undefined)) continue;
    const ofHop = items.filter((item) => item.id !== null && hopOf(conversationId, item.fields) === hop);
    const text = messages.map((m) => (m?.role === 'assistant' ? messageText(m) : '')).join('');
    const deltas = ofHop.filter((item) => item.fields.type === 'text.delta' && typeof item.fields.text === 'string');
    if (deltas.length > 0 && text !== '' && text.startsWith(deltas.map((d) => d.fields.text as string).join(''))) {
      const last = deltas.at(-1)!;
      for (const delta of deltas) delta.drop = delta !== last;
      last.fields = { type: 'text.delta', agent: last.fields.agent, ...hopFields(last.fields), msgs: [from, count] };
    }
    for (const item of ofHop) {
      const f = item.fields;
      if (f.type === 'tool.called') {
        const at = messages.findIndex((m) => m?.role === 'assistant' && (m.tool_calls ?? []).some((c) => c.id === f.toolCallId && c.function.name === f.name && c.function.arguments === f.arguments));
        if (at >= 0) item.fields = { type: f.type, agent: f.agent, ...hopFields(f), toolCallId: f.toolCallId, msg: from + at };
      } else if (f.type === 'tool.result') {
        const at = messages.findIndex((m) => m?.role === 'tool' && m.tool_call_id === f.toolCallId && messageText(m) === f.result);
        if (at >= 0) {
          const { result: _result, name, ...rest } = f;
          const callAt = messages.findIndex((m) => m?.role === 'assistant' && (m.tool_calls ?? []).some((c) => c.id === f.toolCallId && c.function.name === name));
          item.fields = callAt >= 0 ? { ...rest, msg: [from + at, from + callAt] } : { ...rest, name, msg: from + at };
        }
      }
    }
  }
  const lines: string[] = [];
  const step: string[] = [];
  const agents = new Map<string, unknown>();
  let previous: string | undefined;
  for (const item of items) {
    if (item.drop) continue;
    const f = item.fields;
    if (f.type === 'agent.completed') delete f.msgs;
    const hop = hopOf(conversationId, f);
    if (hop !== undefined && f.type === 'agent.started') agents.set(hop, f.agent);
    else if (hop !== undefined && AGENT_OF_HOP.has(String(f.type)) && f.agent !== undefined && agents.get(hop) === f.agent) delete f.agent;
    const json = JSON.stringify(f);
    if (item.id === null) {
      step.push(json);
    } else {
      lines.push(`${idToken(previous, item.id)} ${json}`);
      previous = item.id;
    }
  }
  return { lines, lastId: previous ?? '', stepEvents: step };
}

/** Event types whose `agent` is the agent of their hop (the compacted log leaves it out where it is). */
const AGENT_OF_HOP: ReadonlySet<string> = new Set(['text.delta', 'tool.called', 'tool.result', 'agent.completed']);

/**
 * How a compacted log writes an id after `previous`: `+0` for the next sequence number in the same
 * millisecond, `+<d>` for the first of a millisecond `d` later, else the id itself.
 */
export function idToken(previous: string | undefined, id: string): string {
  if (previous !== undefined) {
    const [pm, ps] = previous.split('-').map(Number) as [number, number];
    const [m, s] = id.split('-').map(Number) as [number, number];
    if (m === pm && s === ps + 1) return '+0';
    if (m > pm && s === 0) return `+${m - pm}`;
  }
  return id;
}

function hopFields(fields: StoredFields): StoredFields {
  return typeof fields.hopId === 'string' ? { hopId: fields.hopId } : typeof fields.hop === 'number' ? { hop: fields.hop } : {};
}

/**
 * The entries (`[id, JSON]`) of a compacted log, in order, with their ids and agents whole again.
 */
export function parseLogLines(conversationId: string, log: string): [string, string][] {
  const entries: [string, string][] = [];
  const agents = new Map<string, unknown>();
  let ms = 0;
  let seq = 0;
  for (const line of log.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const token = line.slice(0, space);
    if (token.startsWith('+')) {
      const d = Number(token.slice(1));
      if (d === 0) seq += 1;
      else {
        ms += d;
        seq = 0;
      }
    } else {
      const [m = '0', s = '0'] = token.split('-');
      ms = Number(m);
      seq = Number(s);
    }
    let json = line.slice(space + 1);
    const fields = JSON.parse(json) as StoredFields;
    const hop = hopOf(conversationId, fields);
    if (hop !== undefined && fields.type === 'agent.started') agents.set(hop, fields.agent);
    else if (hop !== undefined && fields.agent === undefined && AGENT_OF_HOP.has(String(fields.type)) && agents.has(hop)) json = JSON.stringify({ ...fields, agent: agents.get(hop) });
    entries.push([`${ms}-${seq}`, json]);
  }
  return entries;
}

/** True when stream id `a` comes after `b`. */
export function idAfter(a: string, b: string): boolean {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  return BigInt(am) !== BigInt(bm) ? BigInt(am) > BigInt(bm) : BigInt(as) > BigInt(bs);
}
