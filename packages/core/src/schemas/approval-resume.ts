import { z } from 'zod';

/** A person's decision on one tool call that waited for approval. */
export const ApprovalDecision = z.object({ approved: z.boolean(), reason: z.string().optional() });
/** A person's decision on one tool call that waited for approval. */
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

/**
 * What a turn that resumes after approvals carries: the decision for each tool call of the last
 * assistant message that waited, and the hop that made those calls (the turn that parked for
 * approval), which the `tool.result` events of the resumed turn name as `callHopId`.
 */
export const ApprovalResume = z.object({
  approvals: z.record(z.string(), ApprovalDecision),
  /** The hop whose model call made the calls (absent in hops queued by an older runtime). */
  callsHopId: z.string().optional(),
});
/** What a turn that resumes after approvals carries. */
export type ApprovalResume = z.infer<typeof ApprovalResume>;
