import type { Envelope, Message, NetworkAgent } from '@handoff/core';

/**
 * The system messages of a turn: the agent's instructions (a string, or a function — possibly
 * async — of the conversation's context), then — when the previous agent passed typed handoff
 * arguments — a message that shows them.
 */
export async function systemMessages(agent: NetworkAgent, envelope: Envelope, context: Envelope['context']): Promise<Message[]> {
  const content =
    typeof agent.instructions === 'string'
      ? agent.instructions
      : await agent.instructions({ agent: agent.name, conversationId: envelope.conversationId, context, handoffArgs: envelope.handoffArgs });
  const messages: Message[] = [{ role: 'system', content }];
  if (envelope.handoffArgs && Object.keys(envelope.handoffArgs).length > 0) {
    messages.push({
      role: 'system',
      content: `${envelope.previousAgent ?? 'The previous agent'} handed this conversation to you with these arguments: ${JSON.stringify(envelope.handoffArgs)}`,
    });
  }
  return messages;
}
