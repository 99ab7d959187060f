import { spawnSync } from 'node:child_process';
import { relative } from 'node:path';
import { DefinitionError } from '@handoff/core';

/** Longest line of source quoted in the message. */
const QUOTED_LINE_MAX = 120;

/**
 * The first error of a `.ts` module tsx could not compile: its error (named `TransformError`) says
 * `<file>:<line>:<column>: ERROR: <text>` (esbuild's form, column 0-based) in its message.
 */
function transformFailure(error: unknown): { file: string; line: number; column: number; text: string } | undefined {
  if (!(error instanceof Error) || error.name !== 'TransformError') return undefined;
  const match = /^(.+?):(\d+):(\d+): ERROR: (.+)$/m.exec(error.message);
  return match ? { file: match[1]!, line: Number(match[2]), column: Number(match[3]) + 1, text: match[4]! } : undefined;
}

/** `file:line:column` for a message, the file relative to the working directory when under it. */
function place(file: string, line: number, column?: number): string {
  const shown = relative(process.cwd(), file);
  return `${shown.startsWith('..') ? file : shown}:${line}${column === undefined ? '' : `:${column}`}`;
}

function quote(lineText: string | undefined): string {
  if (lineText === undefined || lineText.trim() === '') return '';
  const text = lineText.trim();
  return `\n    ${text.length > QUOTED_LINE_MAX ? `${text.slice(0, QUOTED_LINE_MAX)}…` : text}`;
}

/**
 * Where Node finds a syntax error in a JavaScript module: it checks the file alone (`node --check`,
 * which prints `file:line`, the line, and the error), so only called once an import failed with one.
 */
function checkSyntax(file: string): { line: number; lineText?: string; message: string } | undefined {
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
  if (check.status === 0 || typeof check.stderr !== 'string') return undefined;
  const lines = check.stderr.split('\n');
  const at = /:(\d+)$/.exec(lines[0] ?? '');
  const message = lines.find((l) => /^SyntaxError: /.test(l))?.replace(/^SyntaxError: /, '');
  if (!at || !message) return undefined;
  return { line: Number(at[1]), ...(lines[1] === undefined ? {} : { lineText: lines[1] }), message };
}

/**
 * The error to show when importing the network module `file` failed with a syntax error: a
 * {@link DefinitionError} naming the file, the line (and column when known), the offending line
 * and the parser's message — instead of a bare `SyntaxError` with Node's internal stack. Returns
 * undefined for any other failure (a runtime error keeps its own stack).
 */
export function moduleSyntaxError(file: string, error: unknown): DefinitionError | undefined {
  const transform = transformFailure(error);
  if (transform) {
    return new DefinitionError(`--network: syntax error at ${place(transform.file, transform.line, transform.column)}: ${transform.text}`, {
      cause: error,
      details: { file: transform.file, line: transform.line, column: transform.column },
    });
  }
  if (!(error instanceof SyntaxError)) return undefined;
  const found = checkSyntax(file);
  if (found) {
    return new DefinitionError(`--network: syntax error at ${place(file, found.line)}: ${found.message}${quote(found.lineText)}`, { cause: error, details: { file, line: found.line } });
  }
  // The network file itself parses: the error is in a module it imports (Node does not say which).
  return new DefinitionError(`--network: ${place(file, 1).replace(/:1$/, '')} or a module it imports has a syntax error: ${error.message}. Run "node --check <file>" on the modules it imports to find it.`, {
    cause: error,
    details: { file },
  });
}
