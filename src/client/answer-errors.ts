import { EvidentError } from '../core/index.js';
import type { AnswerName } from './answers.js';

/**
 * The error for an answer that failed its check, with up to ten of its problems by path. Only on that
 * path is TypeBox loaded (the checks themselves need none in the CLI's bundle: answer-check.ts).
 */
export async function badAnswer(name: AnswerName, value: unknown, message: string): Promise<EvidentError> {
  const { answerProblems } = await import('./answer-explain.js');
  return new EvidentError('VERIFICATION_FAILED', message, { details: answerProblems(name, value) });
}
