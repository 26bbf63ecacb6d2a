import type { TSchema } from 'typebox';

/** The CLI bundle's answer checks as an ES module's source (answer-checks.mjs). */
export declare function answerChecksModule(answers: Record<string, TSchema>, guardFrom?: string): string;
