import type { AnswerName } from './answers.js';

/**
 * Whether a server's answer has the shape its name says (answers.ts). This version checks with TypeBox,
 * loaded with the table on the first call (the server and the tests, which load TypeBox anyway). The CLI's
 * bundle replaces this module with checks generated at build time from the same table
 * (scripts/answer-checks.mjs), so a networked command does not load TypeBox before its request.
 */
export async function isAnswer(name: AnswerName, value: unknown): Promise<boolean> {
  const [{ ANSWERS }, { Check }] = await Promise.all([import('./answers.js'), import('typebox/value')]);
  return Check(ANSWERS[name], value);
}
