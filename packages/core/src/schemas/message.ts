import { z } from 'zod';

/**
 * Chat messages in the OpenAI chat.completions format, the one history format of the runtime.
 * Unknown fields are dropped on parse, so what is stored is what every OpenAI-compatible endpoint takes.
 */

/** A function tool call requested by the model. */
export const ToolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});
/** A function tool call requested by the model. */
export type ToolCall = z.infer<typeof ToolCall>;

const TextPart = z.object({ type: z.literal('text'), text: z.string() });
const ImagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string(), detail: z.enum(['auto', 'low', 'high']).optional() }),
});

/** System (or developer) instructions. */
export const SystemMessage = z.object({
  role: z.enum(['system', 'developer']),
  content: z.string(),
  name: z.string().optional(),
});

/** A message from the user. */
export const UserMessage = z.object({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [TextPart, ImagePart]))]),
  name: z.string().optional(),
});

/** A message from the model, possibly with tool calls. */
export const AssistantMessage = z.object({
  role: z.literal('assistant'),
  content: z.string().nullable(),
  tool_calls: z.array(ToolCall).optional(),
  name: z.string().optional(),
});

/** The result of one tool call. */
export const ToolMessage = z.object({
  role: z.literal('tool'),
  tool_call_id: z.string().min(1),
  content: z.string(),
});

/** Any chat message. */
export const Message = z.discriminatedUnion('role', [SystemMessage, UserMessage, AssistantMessage, ToolMessage]);
/** Any chat message. */
export type Message = z.infer<typeof Message>;
/** A message from the model. */
export type AssistantMessage = z.infer<typeof AssistantMessage>;
/** The result of one tool call. */
export type ToolMessage = z.infer<typeof ToolMessage>;
/** A message from the user. */
export type UserMessage = z.infer<typeof UserMessage>;

/** The text of a message's content (text parts joined; null content is empty). */
export function messageText(message: Message): string {
  const content = message.content;
  if (content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}
