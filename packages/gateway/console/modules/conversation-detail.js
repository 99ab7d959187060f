// What the console knows of one open conversation (its "detail"), built from its event log and its
// status record: status, path, context, hops with their text and tool calls, the transcript entries,
// decisions and raw events. Bounded: at most MAX_ITEMS transcript entries, MAX_HOPS hops and
// MAX_DECISIONS decisions. The `…Dirty` flags tell the view what to redraw.

const MAX_ITEMS = 300;
const MAX_DECISIONS = 200;
const MAX_HOPS = 300;

/** An empty detail for the conversation `id`. */
export function newDetail(id) {
  return {
    id,
    lastEventId: null,
    done: false,
    notFound: false,
    status: null,
    entryAgent: null,
    currentAgent: null,
    recordPath: [],
    hopAgents: new Map(),
    routers: new Set(),
    fallbacks: new Set(),
    context: {},
    waiting: null,
    output: null,
    events: [],
    eventCount: 0,
    items: [],
    droppedItems: 0,
    hops: new Map(),
    decisions: [],
    dirty: new Set(),
    rebuild: true,
  };
}

/** The agents visited: the record's path or, when the stream is ahead of it, the hops seen. */
export function displayPath(detail) {
  const fromEvents = [...detail.hopAgents.entries()].sort((a, b) => a[0] - b[0]).map(([, agent]) => agent);
  return fromEvents.length > detail.recordPath.length ? fromEvents : detail.recordPath;
}

/** What the list shows of a conversation, from its detail. */
export function summaryOf(detail) {
  return { status: detail.status, currentAgent: detail.currentAgent, path: displayPath(detail), updatedAt: detail.lastEventTs };
}

/** Appends a transcript entry (dropping the oldest beyond MAX_ITEMS) and returns it. */
export function addItem(detail, item) {
  detail.items.push(item);
  if (detail.items.length > MAX_ITEMS) {
    const removed = detail.items.splice(0, detail.items.length - MAX_ITEMS);
    detail.droppedItems += removed.length;
    for (const old of removed) old.el?.remove();
    detail.rebuildTrim = true;
  }
  detail.dirty.add(item);
  return item;
}

/** Appends a one-line note to the transcript (`extra.open`: a conversation id it links to). */
export function note(detail, text, className = '', extra) {
  return addItem(detail, { kind: 'note', text, className, ...extra });
}

/** Records a decision (routing, fallback, warning, error, loop stop, cancellation) and notes it in the transcript. */
export function decide(detail, kind, text, ts) {
  detail.decisions.push({ kind, text, ts });
  if (detail.decisions.length > MAX_DECISIONS) detail.decisions.splice(0, detail.decisions.length - MAX_DECISIONS);
  detail.decisionsDirty = true;
  note(detail, `${kind}: ${text}`, kind === 'routing' ? 'routing' : 'decision');
}

/** The hop an event belongs to, created (with its transcript entry) on its first event. */
export function hopOf(detail, event) {
  let hop = detail.hops.get(event.hopId);
  if (!hop) {
    hop = { hopId: event.hopId, seq: event.seq ?? Number(/\.h(\d+)$/.exec(event.hopId)?.[1] ?? 0), agent: event.agent, attempt: event.attempt ?? 1, text: '', trimmed: false, tools: new Map(), outcome: null, timing: null, startedTs: event.ts };
    detail.hops.set(event.hopId, hop);
    if (detail.hops.size > MAX_HOPS) detail.hops.delete(detail.hops.keys().next().value);
    hop.item = addItem(detail, { kind: 'hop', hop });
  }
  return hop;
}
