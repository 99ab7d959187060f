// The timeline tab: where the time of each completed hop went — queue wait, model calls, tool
// calls and the rest — as a chart of bars and a table.

import { $, h, s } from './dom.js';
import { clip, ms } from './format.js';

/** Where the time of a hop went: queue wait, model time, tool time (overlapping calls counted once), the rest. */
function hopBreakdown(hop) {
  const t = hop.timing;
  const intervals = [...hop.tools.values()].filter((c) => c.resultAt !== null && c.resultAt >= c.calledAt).map((c) => [c.calledAt, c.resultAt]).sort((a, b) => a[0] - b[0]);
  let tools = 0;
  let end = -Infinity;
  for (const [from, to] of intervals) {
    if (to <= end) continue;
    tools += to - Math.max(from, end);
    end = to;
  }
  const run = t.finishedAt - t.startedAt;
  return { queue: Math.max(0, t.startedAt - t.queuedAt), model: t.modelMs, tools, other: Math.max(0, run - t.modelMs - tools), run, total: t.finishedAt - t.queuedAt };
}

/** Draws the timeline of a conversation's completed hops into the timeline tab. */
export function renderTimeline(detail) {
  const root = $('tab-timeline');
  root.className = 'tab timeline';
  const hops = [...detail.hops.values()].filter((hop) => hop.timing).sort((a, b) => a.seq - b.seq);
  if (hops.length === 0) {
    root.replaceChildren(h('p', 'muted', 'No hop has completed yet: the timeline shows each hop once its turn is applied.'));
    return;
  }
  const t0 = Math.min(...hops.map((hop) => hop.timing.queuedAt));
  const t1 = Math.max(...hops.map((hop) => hop.timing.finishedAt));
  const span = Math.max(t1 - t0, 1);
  const labelWidth = 150;
  const width = Math.max(480, root.clientWidth - 16);
  const barWidth = width - labelWidth - 16;
  const rowHeight = 24;
  const height = 26 + hops.length * rowHeight + 6;
  const x = (t) => labelWidth + ((t - t0) / span) * barWidth;
  const chart = s('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Timeline of the hops' });
  for (let i = 0; i <= 4; i++) {
    const tx = labelWidth + (barWidth * i) / 4;
    chart.append(s('line', { class: 'axis', x1: tx, x2: tx, y1: 16, y2: height }), s('text', { class: 'axis-label', x: tx, y: 11, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' }, `+${ms((span * i) / 4)}`));
  }
  const table = h('table');
  const head = h('tr');
  for (const title of ['hop', 'agent', 'queue wait', 'model', 'tools', 'other', 'total']) head.append(h('th', '', title));
  table.append(head);
  hops.forEach((hop, i) => {
    const t = hop.timing;
    const b = hopBreakdown(hop);
    const y = 22 + i * rowHeight;
    const row = s('g', { class: 'timeline-row', 'data-hop': hop.hopId });
    const bar = (cls, from, to, title) => {
      const rect = s('rect', { class: cls, x: x(from), y: y + 3, width: Math.max(1.5, x(to) - x(from)), height: rowHeight - 8, rx: 2 });
      rect.append(s('title', {}, title));
      return rect;
    };
    row.append(s('text', { class: 'row-label', x: 0, y: y + rowHeight / 2 + 3 }, clip(`${hop.seq}. ${hop.agent}`, 22)));
    row.append(bar('t-queue', t.queuedAt, t.startedAt, `queue wait ${ms(b.queue)}`));
    row.append(bar('t-run', t.startedAt, t.finishedAt, `turn ${ms(b.run)}`));
    if (t.firstModelCallAt !== null && t.lastModelReturnAt !== null) row.append(bar('t-model', t.firstModelCallAt, t.lastModelReturnAt, `model ${ms(t.modelMs)} (first call to last return)`));
    for (const call of hop.tools.values()) if (call.resultAt !== null) row.append(bar('t-tool', call.calledAt, call.resultAt, `${call.name} ${ms(call.resultAt - call.calledAt)}`));
    chart.append(row);
    const tr = h('tr');
    for (const cell of [String(hop.seq), hop.agent, ms(b.queue), ms(b.model), ms(b.tools), ms(b.other), ms(b.total)]) tr.append(h('td', '', cell));
    table.append(tr);
  });
  const keys = h('div', 'keys');
  keys.append(h('span', 'k-queue', 'queue wait'), h('span', 'k-run', 'turn'), h('span', 'k-model', 'model calls'), h('span', 'k-tool', 'tool calls'));
  root.replaceChildren(keys, chart, table);
}
