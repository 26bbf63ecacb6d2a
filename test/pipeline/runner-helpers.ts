import fs from 'node:fs';
import path from 'node:path';
import { loadSpec, runPipeline, type RunEvent, type RunOptions, type RunResult } from '../../src/pipeline/index.js';
import { tempDir } from '../helpers/engines.js';

// A workspace on disk and a way to run its attest.yaml in this process, with every event kept.

export function workspace(attestYaml: string, files: Record<string, string> = {}): string {
  const dir = tempDir('evident-run-');
  fs.writeFileSync(path.join(dir, 'attest.yaml'), attestYaml);
  for (const [rel, content] of Object.entries(files)) write(dir, rel, content);
  return dir;
}

export function write(dir: string, rel: string, content: string | Buffer, mode?: number): void {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  if (mode !== undefined) fs.chmodSync(file, mode);
}

export interface Ran extends RunResult {
  events: RunEvent[];
  lines: string[];
  warnings: string[];
  /** Result detail by step (`cache hit`, `exit code 1`, …). */
  detail: Record<string, string>;
}

export async function run(dir: string, options: Omit<RunOptions, 'loaded'> = {}): Promise<Ran> {
  const events: RunEvent[] = [];
  const result = await runPipeline({ jobs: 4, ...options, loaded: loadSpec(path.join(dir, 'attest.yaml')), onEvent: (e) => events.push(e) });
  const lines = events.flatMap((e) => (e.type === 'step-finished' || e.type === 'step-skipped' ? [e.line] : []));
  const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
  const detail = Object.fromEntries([...result.outcomes].map(([name, o]) => [name, o.detail]));
  return { ...result, events, lines, warnings, detail };
}

export const read = (dir: string, rel: string): string => fs.readFileSync(path.join(dir, rel), 'utf8');
export const exists = (dir: string, rel: string): boolean => fs.existsSync(path.join(dir, rel));
export const isExec = (dir: string, rel: string): boolean => (fs.statSync(path.join(dir, rel)).mode & 0o111) !== 0;
