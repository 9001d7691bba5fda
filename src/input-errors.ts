// How a validation failure of a user's file reads: the file, the path of the field at fault
// (`upsets[3].bit`), and what is allowed — one line, for config and upset files alike.
import type { z } from 'zod';

export function describeZodIssue(source: string, issue: z.core.$ZodIssue): string {
  const field = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('').replace(/^\./, '');
  return `${source}: ${field || '(top level)'}: ${issue.message}`;
}
