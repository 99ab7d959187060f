import type { Cluster, Redis } from 'ioredis';

/** The part of a socket {@link coalesceWrites} uses. */
interface Corkable {
  cork(): void;
  uncork(): void;
}

const COALESCED = Symbol('handoff.coalescedWrites');

/**
 * Makes a connection send the commands issued in one tick of the event loop in one socket write.
 *
 * ioredis writes each command to its socket as it is issued: one `write` system call each, and on
 * loopback or a LAN each call also runs the kernel's receive path and wakes Redis. A handoff issues
 * its commands in small groups sent together (an apply with its in-flight index entry, a turn result
 * with its inbox push, a hop's take with its turn input read); measured in the deployment shape, the
 * socket writes were a third of the gateway's CPU. Here the first command of a tick corks the socket
 * and a `process.nextTick` uncorks it, so the group leaves in one `writev`. Nothing waits for a
 * reply (ioredis' `enableAutoPipelining` holds new commands back until the previous batch is
 * answered, which adds a round trip to a command issued while another is in flight): commands are
 * only held until the current synchronous code and its microtasks finish.
 *
 * On a cluster, every node's connection is treated the same way as it is created.
 * @returns the connection, for chaining
 */
export function coalesceWrites<C extends Redis | Cluster>(connection: C): C {
  if ('isCluster' in connection && connection.isCluster) {
    (connection as Cluster).on('+node', (node: Redis) => coalesceWrites(node));
    return connection;
  }
  const redis = connection as Redis;
  const marked = redis as unknown as { [COALESCED]?: true };
  if (marked[COALESCED]) return connection;
  marked[COALESCED] = true;
  const send = redis.sendCommand.bind(redis);
  let corked: Corkable | null = null;
  const uncork = (): void => {
    const socket = corked;
    corked = null;
    socket?.uncork();
  };
  redis.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    // Only a command written straight to the socket (not a pipeline's, which writes once already,
    // and not one queued while the connection is not ready).
    const socket = (redis as unknown as { stream?: Corkable }).stream;
    if (corked === null && args[1] === undefined && redis.status === 'ready' && socket !== undefined) {
      socket.cork();
      corked = socket;
      process.nextTick(uncork);
    }
    return send(...args);
  }) as Redis['sendCommand'];
  return connection;
}
