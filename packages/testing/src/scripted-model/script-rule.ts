import type { RecordedRequest } from './recorded-request.js';
import type { ScriptedReply } from './scripted-reply.js';

/** A reply, or a function of the request that makes one. */
export type ReplySource = ScriptedReply | ((req: RecordedRequest) => ScriptedReply | Promise<ScriptedReply>);

/**
 * One rule of the script: when `when` accepts a request (or there is no `when`), answer with
 * `reply`, at most `times` times.
 */
export interface ScriptRule {
  /** A name for messages and debugging. */
  name?: string;
  /** Which requests this rule answers; absent: every request. */
  when?: (req: RecordedRequest) => boolean;
  /** The answer, or a function that makes it from the request. */
  reply: ReplySource;
  /** How many requests this rule answers before it is used up; absent: unlimited. */
  times?: number;
}
