import type { ConversationIndex } from '../conversation-index.js';
import { SCHEMA_VERSION, interpolateContext, messageText, resultOfRecord, type ChildDoneCommand, type ConversationRecord, type NetworkDefinition, type Waiting } from '@handoff/core';
import { ApplyOutcome, HOP_JOB_OPTIONS, type ConversationStore, type QueueSet } from '@handoff/redis';
import { decideNewConversation } from './decide-start.js';
import { dispatchPendingHop } from './dispatch.js';

/** What the effects need. */
export interface EffectDeps {
  network: NetworkDefinition;
  store: ConversationStore;
  queues: QueueSet;
  /** The console's list of recent conversations; child conversations are added to it when created. */
  index?: ConversationIndex;
}

/**
 * Does what a record's state calls for once its step is applied — every action idempotent, so it
 * runs after each apply and again for every redelivered job whose step was already applied (the
 * crash may have fallen in between): publish the pending hop; start the child conversation a
 * parent waits for (or pick up where it is); tell the parent when a child conversation ended.
 */
export async function runEffects(record: ConversationRecord, deps: EffectDeps): Promise<void> {
  if (record.status === 'running') {
    await dispatchPendingHop(record, deps.queues);
  } else if (record.status === 'awaiting_child' && record.waiting?.kind === 'child') {
    await ensureChild(record, record.waiting, deps);
  } else if ((record.status === 'completed' || record.status === 'failed') && record.parent) {
    await notifyParent(record, deps);
  }
}

async function ensureChild(parent: ConversationRecord, waiting: Extract<Waiting, { kind: 'child' }>, deps: EffectDeps): Promise<void> {
  let child = await deps.store.read(waiting.childId);
  if (!child) {
    const decision = decideNewConversation(deps.network, {
      conversationId: waiting.childId,
      entryAgent: waiting.entry,
      messages: [{ role: 'user', content: await openingMessage(parent, waiting, deps.store) }],
      context: parent.context,
      maxHops: waiting.maxHops ?? deps.network.maxHops,
      createdAt: Date.now(),
      parent: { conversationId: parent.conversationId, caller: waiting.caller },
      depth: parent.depth + 1,
      group: waiting.group,
      limits: parent.limits,
    });
    const applied = await deps.store.apply(decision.step);
    if (applied.outcome === ApplyOutcome.APPLIED) await deps.index?.touch(waiting.childId);
    child = applied.outcome === ApplyOutcome.APPLIED && applied.version !== null ? { ...decision.record, version: applied.version } : await deps.store.read(waiting.childId);
  }
  if (child) await runEffects(child, deps);
}

/** The child's opening message: its own (with `${var}` from the context), else the carried text, else the parent's last user message. */
async function openingMessage(parent: ConversationRecord, waiting: Extract<Waiting, { kind: 'child' }>, store: ConversationStore): Promise<string> {
  if (waiting.message !== undefined) {
    try {
      return interpolateContext(waiting.message, parent.context);
    } catch {
      return waiting.message;
    }
  }
  if (waiting.carry) return waiting.carry;
  const history = await store.history(parent.conversationId);
  const lastUser = [...history].reverse().find((m) => m.role === 'user');
  return lastUser ? messageText(lastUser) : `(${waiting.caller} started this chat)`;
}

async function notifyParent(child: ConversationRecord, deps: EffectDeps): Promise<void> {
  const result = resultOfRecord(child);
  if (!child.parent || !result) return;
  const command: ChildDoneCommand = { schemaVersion: SCHEMA_VERSION, kind: 'child_done', conversationId: child.parent.conversationId, childId: child.conversationId, result, createdAt: Date.now() };
  await deps.queues.coordinator.add('child_done', command, { ...HOP_JOB_OPTIONS, jobId: `${child.conversationId}.done` });
}
