import { z } from 'zod';
import { ApprovalCommand } from './approval-command.js';
import { CancelCommand } from './cancel-command.js';
import { ChildDoneCommand } from './child-done-command.js';
import { StartCommand } from './start-command.js';
import { TurnResult } from './turn-result.js';
import { UserMessageCommand } from './user-message-command.js';

/** Everything the coordinator applies: what its partitions' inboxes and BullMQ queues carry. */
export const CoordinatorJob = z.discriminatedUnion('kind', [StartCommand, TurnResult, UserMessageCommand, ChildDoneCommand, CancelCommand, ApprovalCommand]);
/** Everything the coordinator applies: what its partitions' inboxes and BullMQ queues carry. */
export type CoordinatorJob = z.infer<typeof CoordinatorJob>;
