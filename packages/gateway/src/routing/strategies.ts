import { DEFAULT_CLASSIFICATION_CACHE_SECONDS, type CapabilityRouter, type PoolRouter, type RoutingChoice, type RoutingRequest, type RoutingStrategy } from '@handoff/core';

/** Round-robin over the candidates, with one counter in Redis shared by every gateway replica. */
export const roundRobin: RoutingStrategy = {
  name: 'round_robin',
  async select(request) {
    const turn = await request.signals.next(`${request.router}:${request.candidates.join(',')}`);
    const agent = request.candidates[(turn - 1) % request.candidates.length]!;
    return { agent, reason: `round robin, turn ${turn}`, details: { turn } };
  },
};

/** The candidate with the fewest hops waiting and running on its queue, read live from Redis. */
export const leastLoaded: RoutingStrategy = {
  name: 'least_loaded',
  async select(request) {
    const loads = await Promise.all(request.candidates.map(async (agent) => ({ agent, ...(await request.signals.load(agent)) })));
    let best = loads[0]!;
    for (const load of loads) if (load.waiting + load.active < best.waiting + best.active) best = load;
    return {
      agent: best.agent,
      reason: `least loaded (${best.waiting} waiting, ${best.active} active)`,
      details: { loads: Object.fromEntries(loads.map((l) => [l.agent, l.waiting + l.active])) },
    };
  },
};

/** A uniformly random candidate. */
export const randomPick: RoutingStrategy = {
  name: 'random',
  select(request) {
    const agent = request.candidates[Math.floor(request.signals.random() * request.candidates.length)]!;
    return { agent, reason: 'random pick' };
  },
};

/** A random candidate, in proportion to its weight (1 when not given). */
export function weighted(weights: Readonly<Record<string, number>> = {}): RoutingStrategy {
  return {
    name: 'weighted',
    select(request) {
      const w = request.candidates.map((agent) => Math.max(0, weights[agent] ?? 1));
      const total = w.reduce((a, b) => a + b, 0);
      let roll = request.signals.random() * (total || 1);
      for (const [i, agent] of request.candidates.entries()) {
        roll -= w[i] ?? 0;
        if (roll < 0) return { agent, reason: `weighted pick (weight ${w[i]} of ${total})` };
      }
      return { agent: request.candidates.at(-1)!, reason: 'weighted pick' };
    },
  };
}

/** The strategy of a pool router. */
export function poolStrategy(router: PoolRouter): RoutingStrategy {
  if (typeof router.strategy === 'object') return router.strategy;
  switch (router.strategy) {
    case 'round_robin':
      return roundRobin;
    case 'least_loaded':
      return leastLoaded;
    case 'random':
      return randomPick;
    case 'weighted':
      return weighted(router.weights);
  }
}

/**
 * Capability routing (the seed's capability-based handoff): find the capability the request needs —
 * by a function, by keyword rules, or by asking the model — and pick its agent, or the default. The
 * classification of an input text is cached in Redis, so the same input is classified once.
 */
export function capabilityStrategy(router: CapabilityRouter): RoutingStrategy {
  const labels = Object.keys(router.capabilities);
  const classify = async (request: RoutingRequest): Promise<string> => {
    const how = router.classify;
    if (typeof how === 'function') return (await how(request.text, request.context)) ?? '';
    if ('keywords' in how) {
      const text = request.text.toLowerCase();
      return Object.entries(how.keywords).find(([, words]) => words.some((w) => text.includes(w.toLowerCase())))?.[0] ?? '';
    }
    return request.signals.classify(request.text, labels, how.instructions);
  };
  return {
    name: 'capability',
    async select(request): Promise<RoutingChoice> {
      const capability = await request.signals.cached(`${request.router}:${request.text}`, router.cacheSeconds ?? DEFAULT_CLASSIFICATION_CACHE_SECONDS, () => classify(request));
      const agent = router.capabilities[capability];
      return agent && request.candidates.includes(agent)
        ? { agent, reason: `required capability: ${capability}`, details: { capability } }
        : { agent: router.default, reason: capability ? `capability "${capability}" has no live agent; default` : 'no capability recognised; default', details: { capability } };
    },
  };
}
