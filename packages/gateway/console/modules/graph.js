// The network graph panel: draws the agents and routers (laid out by graph-layout.js) as SVG,
// with each agent's workers and queue, and overlays the selected conversation's path, its current
// agent, fallbacks, and the count of live conversations at each agent.

import { displayPath } from './conversation-detail.js';
import { $, s } from './dom.js';
import { clip } from './format.js';
import { bendOf, buildGraphModel, edgeGeometry, NODE_H, NODE_W } from './graph-layout.js';
import { conversations, selectedDetail, state, TERMINAL } from './state.js';

/** The graph shrinks to fit its panel down to this scale; below, the panel scrolls. */
const MIN_SCALE = 0.55;

/** What is drawn: the layout model, its SVG root, nodes by id, declared edges by `from>to`, and the group of undeclared moves. */
const graph = { signature: '', model: null, nodes: new Map(), edges: new Map(), root: null, dynamic: null };
let onAgentClick;

/** Keeps the graph fitted to its panel; `onAgentClick(name)` runs when an agent or router is clicked. */
export function initGraph(options) {
  onAgentClick = options.onAgentClick;
  let graphWidth = 0;
  new ResizeObserver(() => {
    if ($('graph').clientWidth === graphWidth) return;
    graphWidth = $('graph').clientWidth;
    fitGraph();
  }).observe($('graph'));
  window.addEventListener('resize', fitGraph);
}

/** An arrowhead for the ends of edges, in `color`. */
function marker(id, color) {
  const m = s('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 10, markerHeight: 10, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' });
  m.append(s('path', { d: 'M0,0 L10,5 L0,10 z', fill: color }));
  return m;
}

/** Draws the network of a `GET /v1/agents` answer (redrawn only when its shape changed), and updates each node's counts. */
export function renderGraph(info) {
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
      g.addEventListener('click', () => onAgentClick(name));
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

/** Marks the selected conversation's path and current agent, and counts live conversations per agent. */
export function updateGraphOverlay() {
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
  const routerAgents = state.network?.routerAgents ?? {};
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
