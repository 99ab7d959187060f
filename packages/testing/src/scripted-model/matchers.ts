/**
 * Small helpers for `ScriptRule.when`: read a recorded request, or build predicates.
 *
 * @example
 * ```ts
 * model.addRule({ when: and(hasTool('search'), lastUserIncludes('weather')), reply: { toolCalls: [{ name: 'search' }] } });
 * ```
 * @module
 */
import { contentText } from './chat-request.js';
import type { RecordedRequest } from './recorded-request.js';

/** A `when` predicate of a `ScriptRule`. */
export type RequestPredicate = (req: RecordedRequest) => boolean;


/**
 * The text of the last `user` message.
 *
 * @returns the text (parts joined), or `undefined` when the request has no user message
 */
export function lastUserText(req: RecordedRequest): string | undefined {
  const messages = req.body.messages;
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i];
    if (message?.role === 'user') return contentText(message.content);
  }
  return undefined;
}

/**
 * The text of every `system` and `developer` message, joined with `'\n'`.
 *
 * @returns the text, or `undefined` when the request has no such message
 */
export function systemText(req: RecordedRequest): string | undefined {
  const texts = req.body.messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => contentText(m.content));
  return texts.length > 0 ? texts.join('\n') : undefined;
}

/** The names of the function tools offered by the request, in order (`[]` without tools). */
export function toolNames(req: RecordedRequest): string[] {
  const names: string[] = [];
  for (const tool of req.body.tools ?? []) {
    const name = tool.function?.name ?? (typeof tool['name'] === 'string' ? tool['name'] : undefined);
    if (name !== undefined) names.push(name);
  }
  return names;
}

/** A predicate: the request offers a tool named `name`. */
export function hasTool(name: string): RequestPredicate {
  return (req) => toolNames(req).includes(name);
}

/** A predicate: the system/developer text contains `text`. */
export function systemIncludes(text: string): RequestPredicate {
  return (req) => systemText(req)?.includes(text) ?? false;
}

/** A predicate: the last user message contains `text`. */
export function lastUserIncludes(text: string): RequestPredicate {
  return (req) => lastUserText(req)?.includes(text) ?? false;
}

/** A predicate: every one of `preds` holds (true when there are none). */
export function and(...preds: RequestPredicate[]): RequestPredicate {
  return (req) => preds.every((p) => p(req));
}
