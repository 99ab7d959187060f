import type { Logger } from 'pino';
import type { KeyLayout, NetworkDefinition } from '@handoff/core';
import { registerNetwork, type RedisClient } from '@handoff/redis';
import { Periodic } from './coordinator/periodic.js';

/** How often the registration is checked. */
const CHECK_INTERVAL_MS = 1_000;

/**
 * Keeps the gateway's network registered: clients refuse to start a conversation
 * (`NETWORK_NOT_REGISTERED`) while Redis holds no registration, which happens when Redis comes back
 * empty (no persistence, or a failover to a replica that lost writes). Every second it checks the
 * registration is there and writes it again when it is not; {@link RegistrationKeeper.registered}
 * says whether it was there at the last check (the gateway's readiness).
 */
export class RegistrationKeeper {
  private readonly periodic: Periodic;
  private present = true;

  constructor(
    private readonly deps: { redis: RedisClient; keys: KeyLayout; network: NetworkDefinition; coordinatorPartitions: number; logger: Logger },
    intervalMs = CHECK_INTERVAL_MS,
  ) {
    this.periodic = new Periodic(() => this.check(), intervalMs, (error) => {
      this.present = false;
      deps.logger.warn({ err: error }, 'could not check the network registration');
    });
  }

  /** True when the registration was there (or written again) at the last check. */
  registered(): boolean {
    return this.present;
  }

  start(): void {
    this.periodic.start();
  }

  async stop(): Promise<void> {
    await this.periodic.stop();
  }

  /** One check: writes the registration again when Redis lost it. */
  async check(): Promise<void> {
    const { redis, keys, network, coordinatorPartitions, logger } = this.deps;
    if ((await redis.exists(keys.network)) === 1) {
      this.present = true;
      return;
    }
    this.present = false;
    await registerNetwork(redis, keys, network, { coordinatorPartitions });
    this.present = true;
    logger.warn({ network: network.name }, 'the network registration was missing from Redis (it lost its data?); registered again');
  }
}
