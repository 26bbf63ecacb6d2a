import { Errors } from 'typebox/value';
import { ANSWERS, type AnswerName } from './answers.js';

/**
 * Up to ten problems, by path, of an answer that failed its check (answer-errors.ts). A module of its own,
 * returning plain data, so that the CLI's CommonJS bundle (scripts/build-cli.mjs) can keep TypeBox and the
 * schemas in a file of their own, loaded only on this path.
 */
export function answerProblems(name: AnswerName, value: unknown): { path: string; message: string }[] {
  return [...Errors(ANSWERS[name], value)].slice(0, 10).map((e) => ({ path: e.instancePath || '/', message: e.message }));
}
