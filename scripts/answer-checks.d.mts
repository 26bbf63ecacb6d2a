import type { TSchema } from 'typebox';

/** Each answer's check as the source of an ES module exporting `check` (answer-checks.mjs). */
export declare function answerCheckSources(answers: Record<string, TSchema>, lazy?: boolean): Record<string, string>;

/** Writes DIR/NAME.cjs, the check of each answer, with esbuild (answer-checks.mjs). */
export declare function writeAnswerChecks(esbuild: typeof import('esbuild'), answers: Record<string, TSchema>, dir: string, resolveDir: string): Promise<void>;

/** The source of the module that replaces src/client/answer-check.ts in the CLI's bundles (answer-checks.mjs). */
export declare function answerChecksModule(names: readonly string[], dir?: string, inline?: readonly string[]): string;
