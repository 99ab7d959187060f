/** A synthetic prior conversation of `count` messages of about `bytesEach` bytes each. */
export function syntheticHistory(count: number, bytesEach: number, tag: string): { role: 'user' | 'assistant'; content: string }[] {
  const filler = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(bytesEach / 27)).slice(0, Math.max(0, bytesEach - 40));
  return Array.from({ length: count }, (_, i) => ({
    role: i % 2 === 0 || i === count - 1 ? ('user' as const) : ('assistant' as const),
    content: `${tag} message ${i}: ${filler}`,
  }));
}
