// The Handoff web console: one ES module, no dependencies, no backend of its own. Every data call
// goes through the gateway's authenticated /v1 API (REST, and Server-Sent Events read with fetch,
// because EventSource cannot send an Authorization header).
//
// Bounded by design, to stay usable with hundreds of conversations running: lists are virtualized
// (only the visible rows exist in the DOM), the page keeps at most MAX_CONVERSATIONS summaries,
// the details of MAX_DETAILS conversations, MAX_EVENTS events and MAX_ITEMS transcript entries per
// conversation, and MAX_TEXT characters of streamed text per hop. One event stream is open at a time
// (the selected conversation's); the list, the graph and the counts come from polling.

const API = new URL('../v1/', location.href);
const KEY_STORAGE = 'handoff.console.apiKey';
const POLL_AGENTS_MS = 2_000;
const POLL_CONVERSATIONS_MS = 2_000;
const POLL_STATUS_MS = 2_000;
const POLL_DEAD_LETTERS_MS = 5_000;
const POLL_DEAD_LETTER_COUNT_MS = 15_000;
const LIST_LIMIT = 200;
const MAX_CONVERSATIONS = 500;
const MAX_DETAILS = 8;
const MAX_EVENTS = 1_000;
const MAX_ITEMS = 300;
const MAX_TEXT = 20_000;
const MAX_DECISIONS = 200;
const MAX_TOOLS_PER_HOP = 50;
const MAX_HOPS = 300;
const MAX_DEAD_LETTERS = 500;
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const LOOP_STOPS = new Set(['max_hops_exceeded', 'ping_pong_detected', 'max_visits_exceeded', 'deadline_exceeded', 'token_budget_exceeded']);
const SVGNS = 'http://www.w3.org/2000/svg';
const NODE_W = 188;
const NODE_H = 52;
const GAP_X = 96;
const GAP_Y = 26;
const PAD = 40;
/** A layer with more agents than this is drawn as several columns. */
const MAX_ROWS = 6;
/** The graph shrinks to fit its panel down to this scale; below, the panel scrolls. */
const MIN_SCALE = 0.55;

// ───────────────────────────── small helpers ─────────────────────────────

const $ = (id) => document.getElementById(id);

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function s(tag, attrs = {}, text) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

const clip = (text, max) => (text.length > max ? `${text.slice(0, max)}…` : text);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function ms(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (value === 0) return '0 ms';
  if (value < 1) return `${value.toFixed(2)} ms`;
  if (value < 1_000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1_000).toFixed(value < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(value / 60_000)} min ${Math.round((value % 60_000) / 1_000)} s`;
}

function ago(ts) {
  if (!ts) return '';
  const seconds = Math.max(0, Math.round((Date.now() - ts) / 1_000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)}h ago`;
  return new Date(ts).toLocaleDateString();
}

const clock = (ts) => new Date(ts).toLocaleTimeString([], { hour12: false }) + `.${String(Math.floor(ts % 1_000)).padStart(3, '0')}`;

function toast(message, bad = false) {
  const node = $('toast');
  node.textContent = message;
  node.className = bad ? 'toast bad' : 'toast';
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (node.hidden = true), bad ? 6_000 : 3_000);
}

// ───────────────────────────── the API, with its key ─────────────────────────────

class AuthError extends Error {}
let apiKey = sessionStorage.getItem(KEY_STORAGE) ?? '';
let needKey = false;

function headers(extra = {}) {
  return apiKey ? { ...extra, authorization: `Bearer ${apiKey}` } : { ...extra };
}

async function api(path, init = {}) {
  let response;
  try {
    response = await fetch(new URL(path, API), { ...init, headers: headers(init.headers) });
  } catch (error) {
    setConnection('gateway unreachable', 'bad');
    throw error;
  }
  if (response.status === 401) {
    askForKey(apiKey ? 'The API key was not accepted.' : '');
    throw new AuthError('unauthorized');
  }
  if (!response.ok) {
    let body;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    const error = new Error(body?.error?.message ?? `HTTP ${response.status}`);
    error.code = body?.error?.code;
    error.status = response.status;
    throw error;
  }
  return response.json();
}

const post = (path, body) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });

function askForKey(message) {
  needKey = true;
  $('key-dialog').hidden = false;
  $('key-error').hidden = !message;
  $('key-error').textContent = message;
  $('api-key').focus();
}

function saveKey() {
  apiKey = $('api-key').value.trim();
  if (apiKey) sessionStorage.setItem(KEY_STORAGE, apiKey);
  else sessionStorage.removeItem(KEY_STORAGE);
  $('api-key').value = '';
  $('key-dialog').hidden = true;
  $('forget-key').hidden = !apiKey;
  needKey = false;
  for (const poller of pollers) poller.now();
  const detail = selectedDetail();
  if (detail && !stream) void startStream(detail);
}

function setConnection(text, kind) {
  const node = $('connection');
  node.textContent = text;
  node.className = `connection ${kind}`;
}

// ───────────────────────────── pollers ─────────────────────────────

const pollers = [];

/** Runs `task` every `intervalMs` while `when()` holds, never twice at once; `now()` runs it at once. */
function every(intervalMs, task, when = () => true) {
  let timer;
  let running = false;
  const run = async () => {
    clearTimeout(timer);
    if (!running && !needKey && !document.hidden && when()) {
      running = true;
      try {
        await task();
      } catch (error) {
        if (!(error instanceof AuthError) && error.status !== 404) console.warn(error);
      } finally {
        running = false;
      }
    }
    timer = setTimeout(run, intervalMs);
  };
  const poller = { now: () => void run() };
  pollers.push(poller);
  void run();
  return poller;
}

// ───────────────────────────── a virtualized list ─────────────────────────────

/** A list that keeps in the DOM only the rows in view (fixed row height). */
class VirtualList {
  constructor(root, rowHeight, renderRow, onClick) {
    this.root = root;
    this.rowHeight = rowHeight;
    this.renderRow = renderRow;
    this.items = [];
    this.rows = [];
    this.spacer = root.querySelector('.vlist-spacer');
    this.container = root.querySelector('.vlist-rows');
    root.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(root);
    if (onClick) {
      this.container.addEventListener('click', (event) => {
        const row = event.target.closest('.vrow');
        const item = row ? this.items[Number(row.dataset.index)] : undefined;
        if (item !== undefined) onClick(item, event);
      });
    }
  }

  setItems(items) {
    this.items = items;
    this.schedule();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  scrollToEnd() {
    this.root.scrollTop = this.items.length * this.rowHeight;
    this.schedule();
  }

  draw() {
    const { rowHeight, items } = this;
    this.spacer.style.height = `${items.length * rowHeight}px`;
    const top = this.root.scrollTop;
    const height = this.root.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / rowHeight) - 4);
    const last = Math.min(items.length, Math.ceil((top + height) / rowHeight) + 4);
    this.container.style.transform = `translateY(${first * rowHeight}px)`;
    const count = Math.max(0, last - first);
    while (this.rows.length < count) this.rows.push(this.container.appendChild(h('div', 'vrow')));
    while (this.rows.length > count) this.rows.pop().remove();
    for (let i = 0; i < count; i++) {
      const row = this.rows[i];
      row.dataset.index = String(first + i);
      this.renderRow(row, items[first + i]);
    }
  }
}

// ───────────────────────────── the network graph ─────────────────────────────

const graph = { info: null, signature: '', nodes: new Map(), edges: new Map(), root: null, dynamic: null };

/** Node ids: agents by name, routers as `router:<name>`. */
function buildGraphModel(info) {
  const agents = info.agents.map((a) => a.name);
  const routerAgents = info.routerAgents ?? Object.fromEntries((info.routers ?? []).map((r) => [r, []]));
  // Edges: agent → agent (handoffs), agent → router → agents (routed handoffs), agent ⇢ fallback.
  const edgeList = [];
  const seen = new Set();
  const addEdge = (from, to, kind) => {
    if (from === to || seen.has(`${from}>${to}`)) return;
    seen.add(`${from}>${to}`);
    edgeList.push({ from, to, kind });
  };
  for (const agent of info.agents) {
    const routes = (agent.handoffRouters ?? []).filter((r) => routerAgents[r]);
    const routed = new Set(routes.flatMap((r) => routerAgents[r]));
    for (const target of agent.handoffTargets ?? []) if (agents.includes(target) && !routed.has(target)) addEdge(agent.name, target, 'handoff');
    for (const router of routes) addEdge(agent.name, `router:${router}`, 'handoff');
  }
  for (const [router, members] of Object.entries(routerAgents)) for (const member of members) if (agents.includes(member)) addEdge(`router:${router}`, member, 'router');
  for (const agent of info.agents) for (const fallback of agent.fallbacks ?? []) if (agents.includes(fallback)) addEdge(agent.name, fallback, 'fallback-def');
  const adjacency = new Map([...agents, ...Object.keys(routerAgents).map((r) => `router:${r}`)].map((id) => [id, []]));
  for (const edge of edgeList) adjacency.get(edge.from)?.push(edge.to);

  // Layers: breadth-first from the entry; routers sit one layer before their agents.
  const layer = new Map();
  const order = [];
  const visit = (start, depth) => {
    const queue = [[start, depth]];
    layer.set(start, depth);
    while (queue.length) {
      const [id, d] = queue.shift();
      order.push(id);
      for (const next of adjacency.get(id) ?? []) {
        if (!layer.has(next)) {
          layer.set(next, d + 1);
          queue.push([next, d + 1]);
        }
      }
    }
  };
  const entry = agents.includes(info.entry) ? info.entry : routerAgents[info.entry] ? `router:${info.entry}` : agents[0];
  if (entry !== undefined) visit(entry, 0);
  for (const router of Object.keys(routerAgents)) {
    const id = `router:${router}`;
    if (layer.has(id)) continue;
    const memberLayers = (adjacency.get(id) ?? []).filter((m) => layer.has(m)).map((m) => layer.get(m));
    if (memberLayers.length) {
      layer.set(id, Math.max(0, Math.min(...memberLayers) - 1));
      order.push(id);
    } else visit(id, 0);
  }
  for (const agent of agents) if (!layer.has(agent)) visit(agent, 0);

  const layers = [];
  for (const id of order) (layers[layer.get(id)] ??= []).push(id);
  // Two barycenter passes: order each layer by the mean position of its predecessors.
  const position = new Map();
  const place = () => layers.forEach((ids) => ids?.forEach((id, i) => position.set(id, i)));
  place();
  const predecessors = new Map();
  for (const [from, targets] of adjacency) for (const to of targets) (predecessors.get(to) ?? predecessors.set(to, []).get(to)).push(from);
  for (let pass = 0; pass < 2; pass++) {
    for (let l = 1; l < layers.length; l++) {
      const ids = layers[l];
      if (!ids) continue;
      const score = (id) => {
        const before = (predecessors.get(id) ?? []).filter((p) => layer.get(p) < l);
        return before.length ? before.reduce((sum, p) => sum + position.get(p), 0) / before.length : position.get(id);
      };
      const scores = new Map(ids.map((id) => [id, score(id)]));
      ids.sort((a, b) => scores.get(a) - scores.get(b));
      place();
    }
  }
  // A crowded layer wraps into columns of at most MAX_ROWS nodes.
  const shape = layers.map((ids) => {
    const n = ids?.length ?? 0;
    const columns = Math.max(1, Math.ceil(n / MAX_ROWS));
    return { columns, rows: Math.ceil(n / columns) };
  });
  const tallest = Math.max(1, ...shape.map((sh) => sh.rows));
  const nodes = new Map();
  let column = 0;
  layers.forEach((ids, l) => {
    const { columns, rows } = shape[l];
    (ids ?? []).forEach((id, i) => {
      const c = Math.floor(i / rows);
      const inColumn = Math.min(rows, ids.length - c * rows);
      const offset = ((tallest - inColumn) * (NODE_H + GAP_Y)) / 2;
      nodes.set(id, { id, layer: l, x: PAD + (column + c) * (NODE_W + GAP_X), y: PAD + offset + (i % rows) * (NODE_H + GAP_Y), router: id.startsWith('router:') });
    });
    column += columns;
  });
  const edges = edgeList.filter((e) => nodes.has(e.from) && nodes.has(e.to));
  return { nodes, edges, width: PAD * 2 + Math.max(1, column) * (NODE_W + GAP_X) - GAP_X, height: PAD * 2 + tallest * (NODE_H + GAP_Y) - GAP_Y };
}

function boundaryPoint(node, tx, ty) {
  const cx = node.x + NODE_W / 2;
  const cy = node.y + NODE_H / 2;
  const dx = tx - cx;
  const dy = ty - cy;
  const t = 1 / Math.max(Math.abs(dx) / (NODE_W / 2 + 4), Math.abs(dy) / (NODE_H / 2 + 4), 1e-9);
  return { x: cx + dx * Math.min(t, 1), y: cy + dy * Math.min(t, 1) };
}

function edgeGeometry(a, b, bend) {
  const ax = a.x + NODE_W / 2;
  const ay = a.y + NODE_H / 2;
  const bx = b.x + NODE_W / 2;
  const by = b.y + NODE_H / 2;
  const length = Math.hypot(bx - ax, by - ay) || 1;
  const mx = (ax + bx) / 2 + (-(by - ay) / length) * bend;
  const my = (ay + by) / 2 + ((bx - ax) / length) * bend;
  const start = boundaryPoint(a, mx, my);
  const end = boundaryPoint(b, mx, my);
  return `M${start.x.toFixed(1)},${start.y.toFixed(1)} Q${mx.toFixed(1)},${my.toFixed(1)} ${end.x.toFixed(1)},${end.y.toFixed(1)}`;
}

function bendOf(model, from, to) {
  const a = model.nodes.get(from);
  const b = model.nodes.get(to);
  const reverse = model.edges.some((e) => e.from === to && e.to === from) || graph.edges.has(`${to}>${from}`);
  if (a.layer === b.layer) return 46;
  // An edge that skips layers arcs clear of the nodes between.
  if (Math.abs(a.layer - b.layer) > 1) return 70 + 8 * (Math.abs(a.layer - b.layer) - 2) + (reverse ? 12 : 0);
  return reverse ? 18 : 0;
}

function marker(id, color) {
  const m = s('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 10, markerHeight: 10, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' });
  m.append(s('path', { d: 'M0,0 L10,5 L0,10 z', fill: color }));
  return m;
}

function renderGraph(info) {
  const signature = JSON.stringify([info.entry, info.agents.map((a) => [a.name, a.handoffTargets ?? [], a.handoffRouters ?? [], a.fallbacks ?? []]), info.routerAgents ?? info.routers]);
  if (signature !== graph.signature) {
    graph.signature = signature;
    const model = buildGraphModel(info);
    graph.model = model;
    graph.nodes.clear();
    graph.edges.clear();
    const root = s('svg', { viewBox: `0 0 ${model.width} ${model.height}`, role: 'img', 'aria-label': `The agents of ${info.network} and their handoffs` });
    const defs = s('defs');
    defs.append(marker('arrow', '#aab1bd'), marker('arrow-path', '#2563eb'), marker('arrow-fallback', '#c2410c'));
    const edgeLayer = s('g', { class: 'edges' });
    graph.dynamic = s('g', { class: 'dynamic-edges' });
    const nodeLayer = s('g', { class: 'nodes' });
    root.append(defs, edgeLayer, graph.dynamic, nodeLayer);
    for (const edge of model.edges) {
      const path = s('path', { class: edge.kind === 'handoff' ? 'edge' : `edge ${edge.kind}`, d: '', 'data-from': edge.from, 'data-to': edge.to, 'marker-end': 'url(#arrow)' });
      graph.edges.set(`${edge.from}>${edge.to}`, path);
      edgeLayer.append(path);
    }
    for (const edge of model.edges) graph.edges.get(`${edge.from}>${edge.to}`).setAttribute('d', edgeGeometry(model.nodes.get(edge.from), model.nodes.get(edge.to), bendOf(model, edge.from, edge.to)));
    for (const node of model.nodes.values()) {
      const name = node.router ? node.id.slice('router:'.length) : node.id;
      const g = s('g', { class: node.router ? 'node router' : 'node agent', transform: `translate(${node.x},${node.y})`, [node.router ? 'data-router' : 'data-agent']: name });
      const title = s('title', {}, name);
      const rect = s('rect', { width: NODE_W, height: NODE_H, rx: node.router ? 18 : 8 });
      const label = s('text', { class: 'name', x: 10, y: 20 }, clip(name, 22));
      const stats = s('text', { class: 'stats', x: 10, y: 38 }, '');
      const visits = s('text', { class: 'visits', x: NODE_W - 8, y: 20, 'text-anchor': 'end' }, '');
      const bubble = s('g', { class: 'live-g', visibility: 'hidden' });
      bubble.append(s('circle', { class: 'live-bubble', cx: NODE_W - 2, cy: 2, r: 10 }), s('text', { class: 'live', x: NODE_W - 2, y: 5.5, 'text-anchor': 'middle' }, ''));
      g.append(title, rect, label, stats, visits, bubble);
      g.addEventListener('click', () => {
        $('conv-filter').value = name;
        renderConversationList();
      });
      graph.nodes.set(node.id, { g, title, stats, visits, bubble, name, router: node.router });
      nodeLayer.append(g);
    }
    $('graph').replaceChildren(root);
    graph.root = root;
    fitGraph();
  }
  for (const agent of info.agents) {
    const node = graph.nodes.get(agent.name);
    if (!node) continue;
    node.stats.textContent = `${agent.liveWorkers} worker${agent.liveWorkers === 1 ? '' : 's'} · ${agent.waiting} waiting · ${agent.active} active`;
    node.title.textContent = `${agent.name}\n${agent.description ?? ''}\nhands off to: ${(agent.handoffTargets ?? []).join(', ') || '—'}${agent.fallbacks?.length ? `\nfallbacks: ${agent.fallbacks.join(', ')}` : ''}`;
    node.g.classList.toggle('no-workers', agent.liveWorkers === 0);
  }
  for (const [router, members] of Object.entries(info.routerAgents ?? {})) {
    const node = graph.nodes.get(`router:${router}`);
    if (node) node.stats.textContent = `router → ${members.length} agent${members.length === 1 ? '' : 's'}`;
  }
  updateGraphOverlay();
}

/** Scales the graph to its panel's width and height (the panel takes at most 45 % of the window), not below MIN_SCALE. */
function fitGraph() {
  if (!graph.root || !graph.model) return;
  const width = $('graph').clientWidth - 4;
  const height = Math.max(140, window.innerHeight * 0.42 - 60);
  const scale = Math.max(MIN_SCALE, Math.min(1, width / graph.model.width, height / graph.model.height));
  graph.root.setAttribute('width', String(Math.round(graph.model.width * scale)));
  graph.root.setAttribute('height', String(Math.round(graph.model.height * scale)));
}
let graphWidth = 0;
new ResizeObserver(() => {
  if ($('graph').clientWidth === graphWidth) return;
  graphWidth = $('graph').clientWidth;
  fitGraph();
}).observe($('graph'));
window.addEventListener('resize', fitGraph);

/** Marks the selected conversation's path and current agent, and counts live conversations per agent. */
function updateGraphOverlay() {
  if (!graph.root) return;
  const detail = selectedDetail();
  const path = detail ? displayPath(detail) : [];
  const live = new Map();
  for (const c of conversations.values()) {
    if (!TERMINAL.has(c.status) && c.currentAgent) live.set(c.currentAgent, (live.get(c.currentAgent) ?? 0) + 1);
  }
  const visits = new Map();
  for (const agent of path) visits.set(agent, (visits.get(agent) ?? 0) + 1);
  const current = detail && !TERMINAL.has(detail.status) ? detail.currentAgent : null;
  // Each move of the path: a declared edge, or through a router, or (fallbacks, group managers,
  // patterns) a move the network does not declare, drawn as an edge of its own.
  const onPath = new Set();
  const routersOnPath = new Set();
  const routerAgents = graph.info?.routerAgents ?? {};
  const move = (a, b) => {
    if (a === b) return;
    if (graph.edges.has(`${a}>${b}`)) return void onPath.add(`${a}>${b}`);
    for (const [router, members] of Object.entries(routerAgents)) {
      if (members.includes(b) && graph.edges.has(`${a}>router:${router}`)) {
        onPath.add(`${a}>router:${router}`);
        onPath.add(`router:${router}>${b}`);
        routersOnPath.add(router);
        return;
      }
    }
    onPath.add(`${a}>${b}`);
  };
  for (let i = 1; i < path.length; i++) move(path[i - 1], path[i]);
  if (detail?.entryAgent && routerAgents[detail.entryAgent] && path[0]) {
    routersOnPath.add(detail.entryAgent);
    onPath.add(`router:${detail.entryAgent}>${path[0]}`);
  }
  for (const [id, node] of graph.nodes) {
    if (node.router) {
      node.g.classList.toggle('on-path', routersOnPath.has(node.name));
      continue;
    }
    node.g.classList.toggle('on-path', visits.has(id));
    node.g.classList.toggle('current', current === id);
    const n = visits.get(id) ?? 0;
    node.visits.textContent = n > 1 ? `×${n}` : '';
    const count = live.get(id) ?? 0;
    node.bubble.setAttribute('visibility', count > 0 ? 'visible' : 'hidden');
    node.bubble.lastChild.textContent = count > 99 ? '99+' : String(count);
  }
  const fallbacks = detail?.fallbacks ?? new Set();
  for (const [key, edge] of graph.edges) {
    const isFallback = fallbacks.has(key);
    const isPath = onPath.has(key) && !isFallback;
    edge.classList.toggle('on-path', isPath);
    edge.classList.toggle('fallback', isFallback);
    edge.setAttribute('marker-end', isFallback ? 'url(#arrow-fallback)' : isPath ? 'url(#arrow-path)' : 'url(#arrow)');
  }
  // Moves the network does not declare (fallbacks, group managers, patterns) get an edge of their own.
  graph.dynamic.replaceChildren();
  for (const key of new Set([...onPath, ...fallbacks])) {
    if (graph.edges.has(key)) continue;
    const [from, to] = key.split('>');
    const a = graph.model.nodes.get(from);
    const b = graph.model.nodes.get(to);
    if (!a || !b) continue;
    const isFallback = fallbacks.has(key);
    graph.dynamic.append(
      s('path', {
        class: `edge dynamic ${isFallback ? 'fallback' : 'on-path'}`,
        d: edgeGeometry(a, b, a.layer === b.layer ? 46 : 28),
        'data-from': from,
        'data-to': to,
        'marker-end': isFallback ? 'url(#arrow-fallback)' : 'url(#arrow-path)',
      }),
    );
  }
}

function updateStartAgents(info) {
  const select = $('start-agent');
  const names = [...info.agents.map((a) => a.name), ...(info.routers ?? [])];
  const signature = names.join('\n');
  if (select.dataset.signature === signature) return;
  select.dataset.signature = signature;
  const previous = select.value;
  select.replaceChildren(...names.map((name) => {
    const option = h('option', '', (info.routers ?? []).includes(name) ? `${name} (router)` : name);
    option.value = name;
    return option;
  }));
  select.value = previous && names.includes(previous) ? previous : info.entry;
}

async function pollAgents() {
  const info = await api('agents');
  graph.info = info;
  $('network-name').textContent = info.network;
  setConnection('connected', 'ok');
  updateStartAgents(info);
  renderGraph(info);
}

// ───────────────────────────── conversations ─────────────────────────────

/** Summaries by id (at most MAX_CONVERSATIONS; the least recently updated go first). */
const conversations = new Map();
const details = new Map();
let selectedId = null;
let stream = null;

function upsertSummary(summary) {
  const previous = conversations.get(summary.conversationId);
  conversations.set(summary.conversationId, { ...previous, ...summary });
}

function trimConversations() {
  if (conversations.size <= MAX_CONVERSATIONS) return;
  const oldest = [...conversations.values()].sort((a, b) => (a.updatedAt ?? 0) - (b.updatedAt ?? 0));
  for (const c of oldest) {
    if (conversations.size <= MAX_CONVERSATIONS) break;
    if (c.conversationId !== selectedId) conversations.delete(c.conversationId);
  }
}

async function pollConversations() {
  const { conversations: list } = await api(`conversations?limit=${LIST_LIMIT}`);
  for (const summary of list) {
    const detail = details.get(summary.conversationId);
    // The open conversation's own stream may be fresher than the list.
    if (detail && detail.status && (detail.lastEventTs ?? 0) > summary.updatedAt) Object.assign(summary, summaryOf(detail));
    upsertSummary(summary);
  }
  trimConversations();
  renderConversationList();
  updateGraphOverlay();
}

const conversationList = new VirtualList($('conv-list'), 48, (row, c) => {
  row.className = c.conversationId === selectedId ? 'vrow selected' : 'vrow';
  row.dataset.id = c.conversationId;
  row.dataset.status = c.status;
  const l1 = h('div', 'l1');
  const status = h('span', `status ${c.status}`, c.status.replace('_', ' '));
  l1.append(h('span', 'id', c.conversationId), status, h('span', 'when', ago(c.updatedAt)));
  const l2 = h('div', 'l2', c.path?.length ? c.path.join(' → ') : c.entryAgent ?? '');
  if (c.parentConversationId) l2.prepend(h('span', '', '↳ nested · '));
  row.replaceChildren(l1, l2);
}, (c) => select(c.conversationId));

function renderConversationList() {
  const filter = $('conv-filter').value.trim().toLowerCase();
  let items = [...conversations.values()].sort((a, b) => (b.updatedAt ?? 0) - (a.updatedAt ?? 0));
  if (filter) {
    items = items.filter((c) => c.conversationId.toLowerCase().includes(filter) || c.status.includes(filter) || (c.currentAgent ?? '').toLowerCase().includes(filter) || (c.path ?? []).some((a) => a.toLowerCase().includes(filter)));
  }
  const running = items.filter((c) => !TERMINAL.has(c.status)).length;
  $('conv-count').textContent = `${items.length} shown · ${running} live`;
  conversationList.setItems(items);
}

// ───────────────────────────── one conversation ─────────────────────────────

function newDetail(id) {
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

const selectedDetail = () => (selectedId ? details.get(selectedId) : undefined);

/** What the list shows of a conversation, from its detail. */
function summaryOf(detail) {
  return { status: detail.status, currentAgent: detail.currentAgent, path: displayPath(detail), updatedAt: detail.lastEventTs };
}

/** Brings the list's entry of an open conversation up to date with its stream. */
function syncSummary(detail) {
  const summary = conversations.get(detail.id);
  if (!summary || !detail.status || !detail.lastEventTs) return;
  const next = summaryOf(detail);
  if (summary.status !== next.status || summary.currentAgent !== next.currentAgent || (summary.path?.length ?? 0) !== next.path.length) {
    upsertSummary({ conversationId: detail.id, ...next, updatedAt: Math.max(summary.updatedAt ?? 0, next.updatedAt) });
    renderConversationList();
  }
}

/** The agents visited: the record's path or, when the stream is ahead of it, the hops seen. */
function displayPath(detail) {
  const fromEvents = [...detail.hopAgents.entries()].sort((a, b) => a[0] - b[0]).map(([, agent]) => agent);
  return fromEvents.length > detail.recordPath.length ? fromEvents : detail.recordPath;
}

function addItem(detail, item) {
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

function note(detail, text, className = '', extra) {
  return addItem(detail, { kind: 'note', text, className, ...extra });
}

function decide(detail, kind, text, ts) {
  detail.decisions.push({ kind, text, ts });
  if (detail.decisions.length > MAX_DECISIONS) detail.decisions.splice(0, detail.decisions.length - MAX_DECISIONS);
  detail.decisionsDirty = true;
  note(detail, `${kind}: ${text}`, kind === 'routing' ? 'routing' : 'decision');
}

function hopOf(detail, event) {
  let hop = detail.hops.get(event.hopId);
  if (!hop) {
    hop = { hopId: event.hopId, seq: event.seq ?? Number(/\.h(\d+)$/.exec(event.hopId)?.[1] ?? 0), agent: event.agent, attempt: event.attempt ?? 1, text: '', trimmed: false, tools: new Map(), outcome: null, timing: null, startedTs: event.ts };
    detail.hops.set(event.hopId, hop);
    if (detail.hops.size > MAX_HOPS) detail.hops.delete(detail.hops.keys().next().value);
    hop.item = addItem(detail, { kind: 'hop', hop });
  }
  return hop;
}

/** Applies one event of the conversation's log to its detail. */
function applyEvent(detail, event) {
  detail.lastEventId = event.id;
  detail.lastEventTs = Math.max(detail.lastEventTs ?? 0, event.ts ?? 0);
  detail.eventCount++;
  detail.events.push(event);
  if (detail.events.length > MAX_EVENTS * 1.2) detail.events.splice(0, detail.events.length - MAX_EVENTS);
  detail.eventsDirty = true;
  detail.headDirty = true;
  switch (event.type) {
    case 'conversation.started':
      detail.entryAgent = event.entryAgent;
      detail.status ??= 'running';
      detail.context = { ...event.context };
      detail.contextDirty = true;
      if (graph.info?.routers?.includes(event.entryAgent)) detail.routers.add(event.entryAgent);
      note(detail, `started on ${event.entryAgent}`);
      break;
    case 'agent.started': {
      const hop = hopOf(detail, event);
      if (event.attempt > hop.attempt) {
        hop.attempt = event.attempt;
        hop.text = '';
        hop.tools.clear();
        hop.retried = true;
      }
      hop.agent = event.agent;
      detail.hopAgents.set(event.seq, event.agent);
      detail.currentAgent = event.agent;
      if (!TERMINAL.has(detail.status)) detail.status = 'running';
      detail.dirty.add(hop.item);
      break;
    }
    case 'text.delta': {
      const hop = hopOf(detail, event);
      hop.text += event.text;
      if (hop.text.length > MAX_TEXT) {
        hop.text = hop.text.slice(-MAX_TEXT);
        hop.trimmed = true;
      }
      detail.dirty.add(hop.item);
      break;
    }
    case 'tool.called': {
      const hop = hopOf(detail, event);
      if (hop.tools.size < MAX_TOOLS_PER_HOP) hop.tools.set(event.toolCallId, { name: event.name, args: clip(event.arguments, 2_000), calledAt: event.ts, result: null, isError: false, resultAt: null });
      detail.dirty.add(hop.item);
      break;
    }
    case 'tool.result': {
      const hop = hopOf(detail, event);
      const call = hop.tools.get(event.toolCallId);
      if (call) Object.assign(call, { result: clip(event.result, 2_000), isError: event.isError, resultAt: event.ts });
      detail.dirty.add(hop.item);
      break;
    }
    case 'agent.completed': {
      const hop = hopOf(detail, event);
      hop.outcome = event.outcome;
      hop.timing = event.timing ?? null;
      detail.timelineDirty = true;
      detail.dirty.add(hop.item);
      break;
    }
    case 'handoff':
      detail.hopAgents.set(event.seq, event.to);
      detail.currentAgent = event.to;
      note(detail, `${event.from} → ${event.to}${event.reason ? `: ${event.reason}` : ''}${event.source ? ` (${event.source.replaceAll('_', ' ')})` : ''}`, 'handoff');
      break;
    case 'routing.decided':
      detail.routers.add(event.router);
      decide(detail, 'routing', `${event.router} (${event.strategy}) → ${event.agent}: ${event.reason}`, event.ts);
      break;
    case 'fallback':
      detail.fallbacks.add(`${event.from}>${event.to}`);
      decide(detail, 'fallback', `${event.from} → ${event.to} (attempt ${event.attempt}) after ${event.error.code}: ${event.error.message}`, event.ts);
      break;
    case 'warning':
      decide(detail, 'warning', event.message, event.ts);
      break;
    case 'error':
      decide(detail, 'error', `${event.agent ? `${event.agent}: ` : ''}${event.error.code}: ${event.error.message}`, event.ts);
      break;
    case 'awaiting.user':
      detail.status = 'awaiting_user';
      detail.waiting = event.waiting;
      note(detail, event.waiting.kind === 'approval' ? `waiting for approval of ${event.waiting.calls.map((c) => c.name).join(', ')}` : `waiting for the user${event.waiting.question ? `: ${event.waiting.question}` : ''}`, 'handoff');
      break;
    case 'user.message':
      detail.status = 'running';
      detail.waiting = null;
      detail.currentAgent = event.agent;
      addItem(detail, { kind: 'user', text: clip(event.text, MAX_TEXT), agent: event.agent });
      break;
    case 'approval.requested':
      note(detail, `${event.agent} asks to run ${event.name}(${clip(event.arguments, 300)})`, 'handoff');
      break;
    case 'approval.decided':
      note(detail, `${event.approved ? 'approved' : 'rejected'} ${event.toolCallId}${event.reason ? `: ${event.reason}` : ''}`, 'handoff');
      detail.waiting = null;
      break;
    case 'nested.started':
      detail.status = 'awaiting_child';
      note(detail, `nested chat ${event.childConversationId} started on ${event.entry} (for ${event.caller}) — open it`, 'handoff', { open: event.childConversationId });
      break;
    case 'nested.completed':
      detail.status = 'running';
      note(detail, `nested chat ${event.childConversationId} ${event.status}: ${clip(event.summary, 300)}`, 'handoff', { open: event.childConversationId });
      break;
    case 'context.updated':
      Object.assign(detail.context, event.patch);
      detail.contextDirty = true;
      note(detail, `${event.agent} set context ${clip(JSON.stringify(event.patch), 300)}`);
      break;
    case 'conversation.completed':
    case 'conversation.failed':
    case 'conversation.cancelled': {
      const result = event.result;
      const status = event.type.slice('conversation.'.length);
      detail.status = status;
      detail.done = true;
      detail.waiting = null;
      detail.output = result.output;
      if (result.path?.length) detail.recordPath = result.path;
      detail.context = result.context ?? detail.context;
      detail.contextDirty = true;
      if (status === 'failed') decide(detail, LOOP_STOPS.has(result.reason) ? 'loop stop' : result.reason === 'all_fallbacks_failed' ? 'fallbacks exhausted' : 'failed', `${result.reason}${result.error ? ` — ${result.error.message}` : ''}`, event.ts);
      if (status === 'cancelled') decide(detail, 'cancelled', result.error?.message ?? 'cancelled', event.ts);
      note(detail, status === 'completed' ? `completed by ${result.agent ?? '?'} (path ${result.path.join(' → ')})` : `${status}: ${result.reason}`, `end-${status}`);
      upsertSummary({ conversationId: detail.id, status, currentAgent: result.agent, path: result.path, terminalReason: result.reason, updatedAt: event.ts });
      break;
    }
    default:
      break;
  }
}

function select(id) {
  if (!id) return;
  if (selectedId === id) {
    void refreshStatus();
    return;
  }
  stopStream();
  selectedId = id;
  let detail = details.get(id);
  if (detail) details.delete(id);
  else detail = newDetail(id);
  details.set(id, detail);
  for (const old of details.keys()) {
    if (details.size <= MAX_DETAILS) break;
    if (old !== id) details.delete(old);
  }
  detail.rebuild = true;
  $('detail-empty').hidden = true;
  $('detail-body').hidden = false;
  if (!conversations.has(id)) upsertSummary({ conversationId: id, status: 'starting', path: [], updatedAt: Date.now() });
  renderConversationList();
  scheduleRender();
  void refreshStatus()
    .catch(() => undefined)
    .then(() => startStream(detail));
}

async function refreshStatus() {
  const detail = selectedDetail();
  if (!detail) return;
  try {
    const view = await api(`conversations/${encodeURIComponent(detail.id)}`);
    detail.notFound = false;
    if (!detail.done || TERMINAL.has(view.status)) detail.status = view.status;
    detail.entryAgent = view.entryAgent;
    detail.currentAgent = view.currentAgent ?? detail.currentAgent;
    detail.recordPath = view.path;
    detail.context = view.context;
    detail.contextDirty = true;
    detail.waiting = view.waiting;
    detail.output = view.output;
    detail.headDirty = true;
    upsertSummary({ conversationId: view.conversationId, status: view.status, entryAgent: view.entryAgent, currentAgent: view.currentAgent, path: view.path, terminalReason: view.terminalReason, createdAt: view.createdAt, updatedAt: view.updatedAt });
    renderConversationList();
  } catch (error) {
    if (error.status === 404) {
      detail.notFound = true;
      detail.headDirty = true;
      // Not applied yet (a start still on the coordinator queue) or unknown: the stream will tell.
    } else throw error;
  } finally {
    scheduleRender();
  }
}

function stopStream() {
  stream?.controller.abort();
  stream = null;
}

/** Reads Server-Sent Events from a fetch response body; calls `onEvent(id, type, data)` per event. */
async function readSse(body, onEvent) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replaceAll('\r\n', '\n');
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let id = null;
        let type = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') id = value;
          else if (field === 'event') type = value;
          else if (field === 'data') data.push(value);
        }
        if (data.length) onEvent(id, type, data.join('\n'));
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** Follows the selected conversation's events (resuming after the last one seen) until it ends. */
async function startStream(detail) {
  if (detail.id !== selectedId || detail.done || stream?.id === detail.id) {
    setStreamLabel(detail);
    return;
  }
  const controller = new AbortController();
  const mine = { id: detail.id, controller };
  stream = mine;
  let backoff = 500;
  let notFoundSince = null;
  while (!controller.signal.aborted && !detail.done) {
    try {
      const extra = { accept: 'text/event-stream' };
      if (detail.lastEventId) extra['last-event-id'] = detail.lastEventId;
      const response = await fetch(new URL(`conversations/${encodeURIComponent(detail.id)}/events`, API), { headers: headers(extra), signal: controller.signal });
      if (response.status === 401) {
        askForKey(apiKey ? 'The API key was not accepted.' : '');
        break;
      }
      if (response.status === 404) {
        // A conversation just started may not be applied yet; give it a moment before giving up.
        notFoundSince ??= Date.now();
        detail.notFound = Date.now() - notFoundSince > 5_000;
        detail.headDirty = true;
        scheduleRender();
        await sleep(detail.notFound ? 5_000 : 300);
        continue;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      detail.notFound = false;
      detail.streaming = true;
      setStreamLabel(detail);
      let received = 0;
      await readSse(response.body, (id, _type, data) => {
        if (stream !== mine) return;
        received++;
        try {
          applyEvent(detail, { ...JSON.parse(data), id });
        } catch (error) {
          console.warn('bad event', error);
        }
        scheduleRender();
      });
      // The server ends a stream at the conversation's end; one that ends early is resumed, slower each time it brings nothing.
      if (received > 0) backoff = 500;
      else {
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 10_000);
      }
    } catch (error) {
      if (controller.signal.aborted) break;
      console.warn('event stream', error);
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 10_000);
    } finally {
      detail.streaming = false;
    }
  }
  if (stream === mine) stream = null;
  setStreamLabel(detail);
  if (detail.done && detail.id === selectedId) void refreshStatus();
}

function setStreamLabel(detail) {
  if (detail.id !== selectedId) return;
  $('detail-stream').textContent = detail.done ? 'ended' : detail.streaming ? '● live' : detail.notFound ? 'not found' : 'connecting…';
}

// ───────────────────────────── rendering the detail ─────────────────────────────

let renderPending = false;
let activeTab = 'transcript';

function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    renderDetail();
  });
}

function renderItem(detail, item) {
  if (item.kind === 'hop') {
    const hop = item.hop;
    if (!item.el) {
      item.el = h('div', 'item hop');
      item.who = h('div', 'who');
      item.tools = h('div', 'tools');
      item.text = h('div', 'text');
      item.el.append(item.who, item.tools, item.text);
      item.el.dataset.agent = hop.agent;
    }
    item.who.replaceChildren(hop.agent, h('span', 'muted', `hop ${hop.seq}${hop.attempt > 1 ? ` · attempt ${hop.attempt}` : ''}${hop.outcome ? ` · ${hop.outcome}` : ' · working…'}${hop.timing ? ` · ${ms(hop.timing.finishedAt - hop.timing.startedAt)}` : ''}`));
    item.tools.replaceChildren(...[...hop.tools.entries()].map(([id, call]) => {
      const line = h('div', 'tool', `⚙ ${call.name}(${call.args})`);
      line.dataset.toolCallId = id;
      if (call.result !== null) line.append(h('div', call.isError ? 'res err' : 'res', `→ ${call.result}`));
      return line;
    }));
    item.text.textContent = (hop.trimmed ? '…' : '') + hop.text;
    item.el.classList.toggle('has-text', hop.text.length > 0);
  } else if (item.kind === 'user') {
    if (!item.el) {
      item.el = h('div', 'item user');
      item.el.append(h('div', 'who', `User → ${item.agent}`), h('div', 'text', item.text));
    }
  } else if (!item.el) {
    item.el = h('div', `item note ${item.className}`, item.text);
    if (item.open) {
      const link = h('button', 'link', 'open');
      link.addEventListener('click', () => select(item.open));
      item.el.append(' ', link);
    }
  }
  return item.el;
}

function renderDetail() {
  const detail = selectedDetail();
  if (!detail) return;
  const transcript = $('tab-transcript');
  const atBottom = transcript.scrollTop + transcript.clientHeight >= transcript.scrollHeight - 40;
  if (detail.rebuild || detail.rebuildTrim) {
    const nodes = detail.items.map((item) => renderItem(detail, item));
    if (detail.droppedItems) nodes.unshift(h('div', 'item trimmed', `… ${detail.droppedItems} earlier entries not kept`));
    transcript.replaceChildren(...nodes);
    detail.dirty.clear();
    detail.rebuildTrim = false;
  } else {
    for (const item of detail.dirty) {
      const node = renderItem(detail, item);
      if (!node.isConnected && detail.items.includes(item)) transcript.append(node);
    }
    detail.dirty.clear();
  }
  if (atBottom || detail.rebuild) transcript.scrollTop = transcript.scrollHeight;

  if (detail.headDirty || detail.rebuild) {
    $('detail-id').textContent = detail.id;
    const status = detail.notFound && !detail.status ? 'not found' : detail.status ?? 'starting';
    $('detail-status').textContent = status.replace('_', ' ');
    $('detail-status').className = `status ${status.replace(' ', '_')}`;
    $('detail-status').dataset.status = status;
    $('detail-agent').textContent = detail.currentAgent ? `${TERMINAL.has(detail.status) ? 'last agent' : 'at'} ${detail.currentAgent}` : '';
    $('detail-path').textContent = displayPath(detail).join(' → ');
    $('cancel-conversation').disabled = TERMINAL.has(detail.status) || detail.notFound || detail.cancelling === true;
    renderWaiting(detail);
    setStreamLabel(detail);
    syncSummary(detail);
    detail.headDirty = false;
  }
  const decisionCount = $('decision-count');
  decisionCount.hidden = detail.decisions.length === 0;
  decisionCount.textContent = String(detail.decisions.length);
  $('event-count').textContent = detail.eventCount ? String(detail.eventCount) : '';
  if (activeTab === 'timeline' && (detail.timelineDirty || detail.rebuild)) renderTimeline(detail);
  if (activeTab === 'decisions' && (detail.decisionsDirty || detail.rebuild)) renderDecisions(detail);
  if (activeTab === 'context' && (detail.contextDirty || detail.rebuild)) $('context-json').textContent = clip(JSON.stringify(detail.context, null, 2), 100_000);
  if (activeTab === 'events' && (detail.eventsDirty || detail.rebuild)) {
    const list = eventList;
    const follow = list.root.scrollTop + list.root.clientHeight >= list.items.length * list.rowHeight - 30;
    list.setItems(detail.events);
    if (follow) list.scrollToEnd();
  }
  if (activeTab === 'timeline') detail.timelineDirty = false;
  if (activeTab === 'decisions') detail.decisionsDirty = false;
  if (activeTab === 'context') detail.contextDirty = false;
  if (activeTab === 'events') detail.eventsDirty = false;
  detail.rebuild = false;
  updateGraphOverlay();
  conversationList.schedule();
}

function renderWaiting(detail) {
  const waiting = detail.status === 'awaiting_user' ? detail.waiting : null;
  $('detail-waiting').hidden = !waiting;
  if (!waiting) return;
  const approval = waiting.kind === 'approval';
  $('approval-form').hidden = !approval;
  $('reply-form').hidden = approval;
  if (approval) {
    $('waiting-text').textContent = `${waiting.agent} waits for approval: ${waiting.calls.map((c) => `${c.name}(${clip(c.arguments, 120)})`).join(', ')}`;
  } else {
    $('waiting-text').textContent = `${waiting.agent} waits for the user${waiting.question ? `: ${waiting.question}` : ''}`;
    const choices = waiting.choices ?? [];
    const select = $('message-agent');
    select.hidden = choices.length === 0;
    if (select.dataset.choices !== choices.join('\n')) {
      select.dataset.choices = choices.join('\n');
      select.replaceChildren(Object.assign(h('option', '', '(same agent)'), { value: '' }), ...choices.map((c) => Object.assign(h('option', '', c), { value: c })));
    }
  }
}

function renderDecisions(detail) {
  const list = $('decision-list');
  if (detail.decisions.length === 0) {
    list.replaceChildren(h('li', 'muted', 'No routing decisions, fallbacks, loop stops or cancellations in this conversation.'));
    return;
  }
  list.replaceChildren(...detail.decisions.map((d) => {
    const li = h('li');
    li.append(h('span', 'muted', `${clock(d.ts)} `), h('span', `kind ${d.kind.split(' ')[0]}`, d.kind), d.text);
    return li;
  }));
}

/** Where the time of each hop went: queue wait, model time, tool time, the rest. */
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

function renderTimeline(detail) {
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

const eventList = new VirtualList($('event-list'), 24, (row, event) => {
  const { id: _id, conversationId: _c, ts, type, ...rest } = event;
  row.replaceChildren(h('span', 'muted', `${clock(ts)} `), h('span', 't', type), clip(JSON.stringify(rest), 400));
});

// ───────────────────────────── dead letters ─────────────────────────────

let view = 'conversations';
const deadLetterList = new VirtualList($('dl-list'), 40, (row, letter) => {
  row.dataset.id = letter.id;
  const conversation = h('span', 'mono', letter.conversationId ?? '—');
  if (letter.conversationId) {
    const open = h('button', 'link', 'open');
    open.dataset.open = letter.conversationId;
    conversation.append(' ', open);
  }
  const replay = h('button', '', 'Replay');
  replay.dataset.replay = letter.id;
  row.replaceChildren(
    h('span', '', new Date(letter.deadAt).toLocaleString()),
    h('span', 'mono', `${letter.sourceQueue} / ${letter.jobId ?? '—'}`),
    conversation,
    h('span', 'err', `${letter.error?.code ?? ''}: ${letter.error?.message ?? ''}`),
    replay,
  );
  row.title = letter.payloadPreview ?? '';
}, (letter, event) => void onDeadLetterClick(letter, event));

async function onDeadLetterClick(letter, event) {
  const target = event.target;
  if (target.dataset?.replay) {
    target.disabled = true;
    try {
      const replayed = await post(`dead-letters/${encodeURIComponent(letter.id)}/replay`);
      toast(`Replayed ${letter.id} as job ${replayed.jobId}.`);
    } catch (error) {
      toast(`Replay failed: ${error.message}`, true);
    } finally {
      target.disabled = false;
      await pollDeadLetters().catch(() => undefined);
    }
    return;
  }
  if (target.dataset?.open) {
    showView('conversations');
    select(target.dataset.open);
    return;
  }
  const full = await api(`dead-letters/${encodeURIComponent(letter.id)}`).catch((error) => ({ error: error.message }));
  $('dl-payload').hidden = false;
  $('dl-payload').textContent = clip(JSON.stringify(full, null, 2), 200_000);
}

function setDeadLetterCount(total) {
  $('dl-count').hidden = !total;
  $('dl-count').textContent = String(total);
}

async function pollDeadLetters() {
  const { deadLetters, total } = await api(`dead-letters?limit=${MAX_DEAD_LETTERS}`);
  setDeadLetterCount(total);
  $('dl-total').textContent = total > deadLetters.length ? `(newest ${deadLetters.length} of ${total})` : `(${total})`;
  deadLetterList.setItems(deadLetters);
}

function showView(name) {
  view = name;
  for (const button of $('views').querySelectorAll('button')) button.classList.toggle('active', button.dataset.view === name);
  $('view-conversations').hidden = name !== 'conversations';
  $('view-dead-letters').hidden = name !== 'dead-letters';
  if (name === 'dead-letters') deadLetterPoller.now();
}

// ───────────────────────────── wiring ─────────────────────────────

async function startConversation() {
  const input = $('start-input').value.trim();
  const error = $('start-error');
  error.hidden = true;
  if (!input) {
    error.textContent = 'Write the user’s message first.';
    error.hidden = false;
    return;
  }
  const body = { agent: $('start-agent').value || undefined, input };
  const contextText = $('start-context').value.trim();
  if (contextText) {
    try {
      body.context = JSON.parse(contextText);
    } catch {
      error.textContent = 'The context is not valid JSON.';
      error.hidden = false;
      return;
    }
  }
  $('start-button').disabled = true;
  try {
    const { conversationId } = await post('conversations', body);
    upsertSummary({ conversationId, status: 'starting', entryAgent: body.agent ?? null, currentAgent: null, path: [], updatedAt: Date.now() });
    $('start-input').value = '';
    select(conversationId);
  } catch (e) {
    if (!(e instanceof AuthError)) {
      error.textContent = e.message;
      error.hidden = false;
    }
  } finally {
    $('start-button').disabled = false;
  }
}

async function cancelSelected() {
  const detail = selectedDetail();
  if (!detail) return;
  detail.cancelling = true;
  detail.headDirty = true;
  scheduleRender();
  try {
    await post(`conversations/${encodeURIComponent(detail.id)}/cancel`, { reason: 'cancelled from the console' });
    toast('Cancelling…');
  } catch (error) {
    toast(`Cancel failed: ${error.message}`, true);
  } finally {
    detail.cancelling = false;
    detail.headDirty = true;
    scheduleRender();
  }
}

async function answer(kind) {
  const detail = selectedDetail();
  if (!detail) return;
  try {
    if (kind === 'message') {
      const message = $('message-input').value.trim();
      if (!message) return;
      const agent = $('message-agent').value;
      await post(`conversations/${encodeURIComponent(detail.id)}/messages`, agent ? { message, agent } : { message });
      $('message-input').value = '';
    } else {
      await post(`conversations/${encodeURIComponent(detail.id)}/approvals`, { approved: kind === 'approve' });
    }
    detail.status = 'running';
    detail.waiting = null;
    detail.headDirty = true;
    scheduleRender();
    if (!stream) void startStream(detail);
  } catch (error) {
    toast(error.message, true);
  }
}

$('api-key-save').addEventListener('click', saveKey);
$('api-key').addEventListener('keydown', (event) => event.key === 'Enter' && saveKey());
$('forget-key').addEventListener('click', () => {
  sessionStorage.removeItem(KEY_STORAGE);
  apiKey = '';
  $('forget-key').hidden = true;
  askForKey('');
});
$('start-button').addEventListener('click', () => void startConversation());
$('start-input').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void startConversation();
});
$('open-button').addEventListener('click', () => select($('open-id').value.trim()));
$('open-id').addEventListener('keydown', (event) => event.key === 'Enter' && select($('open-id').value.trim()));
$('conv-filter').addEventListener('input', () => renderConversationList());
$('cancel-conversation').addEventListener('click', () => void cancelSelected());
$('message-send').addEventListener('click', () => void answer('message'));
$('message-input').addEventListener('keydown', (event) => event.key === 'Enter' && void answer('message'));
$('approve-button').addEventListener('click', () => void answer('approve'));
$('reject-button').addEventListener('click', () => void answer('reject'));
$('dl-refresh').addEventListener('click', () => deadLetterPoller.now());
for (const button of $('views').querySelectorAll('button')) button.addEventListener('click', () => showView(button.dataset.view));
for (const button of $('detail-tabs').querySelectorAll('button')) {
  button.addEventListener('click', () => {
    activeTab = button.dataset.tab;
    for (const other of $('detail-tabs').querySelectorAll('button')) other.classList.toggle('active', other === button);
    for (const tab of ['transcript', 'timeline', 'decisions', 'context', 'events']) $(`tab-${tab}`).hidden = tab !== activeTab;
    const detail = selectedDetail();
    if (detail) {
      detail.timelineDirty = detail.decisionsDirty = detail.contextDirty = detail.eventsDirty = true;
      scheduleRender();
    }
  });
}
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) for (const poller of pollers) poller.now();
});
setInterval(() => conversationList.schedule(), 5_000); // keeps "… ago" fresh

$('forget-key').hidden = !apiKey;
every(POLL_AGENTS_MS, pollAgents);
every(POLL_CONVERSATIONS_MS, pollConversations);
every(POLL_STATUS_MS, refreshStatus, () => {
  const detail = selectedDetail();
  return Boolean(detail && !detail.done);
});
const deadLetterPoller = every(POLL_DEAD_LETTERS_MS, pollDeadLetters, () => view === 'dead-letters');
every(POLL_DEAD_LETTER_COUNT_MS, async () => {
  const { total } = await api('dead-letters?limit=1');
  setDeadLetterCount(total);
}, () => view !== 'dead-letters');

// Open a conversation named in the address (#c_…), e.g. a link from a log line.
if (location.hash.length > 1) select(decodeURIComponent(location.hash.slice(1)));
