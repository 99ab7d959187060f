// The network graph's layout, without the DOM: agents and routers placed in layers from the entry
// (breadth-first, ordered by barycenters, crowded layers wrapped into columns), and the curved
// edges between them.

/** A node's width and height, in graph units. */
export const NODE_W = 188;
export const NODE_H = 52;
const GAP_X = 96;
const GAP_Y = 26;
const PAD = 40;
/** A layer with more agents than this is drawn as several columns. */
const MAX_ROWS = 6;

/**
 * Lays out the network of a `GET /v1/agents` answer: `{ nodes, edges, width, height }`, nodes by
 * id (agents by name, routers as `router:<name>`) with their layer and position.
 */
export function buildGraphModel(info) {
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

/** Where the line from a node's centre towards (tx, ty) leaves the node's box (with a small margin). */
function boundaryPoint(node, tx, ty) {
  const cx = node.x + NODE_W / 2;
  const cy = node.y + NODE_H / 2;
  const dx = tx - cx;
  const dy = ty - cy;
  const t = 1 / Math.max(Math.abs(dx) / (NODE_W / 2 + 4), Math.abs(dy) / (NODE_H / 2 + 4), 1e-9);
  return { x: cx + dx * Math.min(t, 1), y: cy + dy * Math.min(t, 1) };
}

/** The SVG path of an edge from node `a` to node `b`: a quadratic curve bent sideways by `bend`. */
export function edgeGeometry(a, b, bend) {
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

/** How far a declared edge of the model bends: edges within a layer, skipping layers, or with a reverse twin arc apart. */
export function bendOf(model, from, to) {
  const a = model.nodes.get(from);
  const b = model.nodes.get(to);
  const reverse = model.edges.some((e) => e.from === to && e.to === from);
  if (a.layer === b.layer) return 46;
  // An edge that skips layers arcs clear of the nodes between.
  if (Math.abs(a.layer - b.layer) > 1) return 70 + 8 * (Math.abs(a.layer - b.layer) - 2) + (reverse ? 12 : 0);
  return reverse ? 18 : 0;
}
