import { z } from 'zod';
import { StartCommand } from './start-command.js';
import { TurnResult } from './turn-result.js';

/** Every job on the coordinator queue. */
export const CoordinatorJob = z.discriminatedUnion('kind', [StartCommand, TurnResult]);
/** Every job on the coordinator queue. */
export type CoordinatorJob = z.infer<typeof CoordinatorJob>;
