import type OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { addUsage, messageText, ZERO_USAGE, type Message, type NetworkDefinition, type ResolvedModelSettings, type TokenUsage } from '@handoff/core';

/** What the group manager needs. */
export interface SpeakerSelection {
  client: OpenAI;
  settings: ResolvedModelSettings;
  network: NetworkDefinition;
  /** The agent whose turn just ended. */
  current: string;
  /** Who may be picked, in order (the fallback takes the next after `current`). */
  candidates: readonly string[];
  history: readonly Message[];
  selectionMessage?: string | undefined;
  attempts: number;
  signal?: AbortSignal | undefined;
}

/** Who the group manager picked, and how. */
export interface SpeakerSelected {
  agent: string;
  reason: string;
  usage: TokenUsage;
}

/** The candidates a reply names (whole-word matches), each once. */
export function mentionedCandidates(reply: string, candidates: readonly string[]): string[] {
  return candidates.filter((name) => new RegExp(`(^|[^A-Za-z0-9_-])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_-])`).test(reply));
}

/** The deterministic fallback: the first candidate after `current` in the candidates' order. */
export function nextCandidate(current: string, candidates: readonly string[]): string {
  const index = candidates.indexOf(current);
  return candidates[(index + 1) % candidates.length] ?? candidates[0]!;
}

/**
 * The group manager (AG2's auto speaker selection): a model reads the conversation and the
 * candidates' names and descriptions and names the next speaker. A reply naming exactly one
 * candidate decides; a reply naming none or several is answered with a correction and asked again,
 * up to `attempts` times; then the next candidate in order is taken, so the conversation never
 * stalls on the selection.
 */
export async function selectSpeaker(selection: SpeakerSelection): Promise<SpeakerSelected> {
  const { network, candidates } = selection;
  if (candidates.length === 1) return { agent: candidates[0]!, reason: 'group manager: only candidate', usage: ZERO_USAGE };
  const roles = candidates.map((name) => `${name}: ${network.agent(name, 'group manager').description || '(no description)'}`).join('\n');
  const list = `[${candidates.join(', ')}]`;
  const messages: ChatCompletionMessageParam[] = [
    {
      role: 'system',
      content: `You are in a role play game. The following roles are available:\n${roles}.\nRead the following conversation. Then select the next role from ${list} to play. Only return the role.${selection.selectionMessage ? `\n${selection.selectionMessage}` : ''}`,
    },
    ...selection.history
      .filter((m) => m.role === 'user' || (m.role === 'assistant' && messageText(m) !== ''))
      .map((m): ChatCompletionMessageParam => ({ role: m.role === 'user' ? 'user' : 'assistant', content: messageText(m) })),
    { role: 'user', content: `Read the above conversation. Then select the next role from ${list} to play. Only return the role.` },
  ];
  let usage = ZERO_USAGE;
  for (let attempt = 1; attempt <= selection.attempts; attempt++) {
    let reply: string;
    try {
      const completion = await selection.client.chat.completions.create({ model: selection.settings.name, messages }, selection.signal ? { signal: selection.signal } : undefined);
      usage = addUsage(usage, { promptTokens: completion.usage?.prompt_tokens ?? 0, completionTokens: completion.usage?.completion_tokens ?? 0 });
      reply = completion.choices[0]?.message.content ?? '';
    } catch (error) {
      if (selection.signal?.aborted) throw error;
      break; // the model is unavailable: fall back below
    }
    const named = mentionedCandidates(reply, candidates);
    if (named.length === 1) return { agent: named[0]!, reason: `group manager selected ${named[0]}`, usage };
    messages.push(
      { role: 'assistant', content: reply },
      {
        role: 'user',
        content:
          named.length === 0
            ? `You did not name any of the roles ${list}. Only return one role, exactly as written.`
            : `You named several roles (${named.join(', ')}). Only return one role from ${list}.`,
      },
    );
  }
  const fallback = nextCandidate(selection.current, candidates);
  return { agent: fallback, reason: `group manager named no single candidate; fallback to the next in order, ${fallback}`, usage };
}
