import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { EvidentError } from '../core/index.js';

/**
 * Rules of custom attestation types are jq programs, evaluated by the real `jq` (Kosli's rules are jq),
 * installed from the system's packages (Debian: `apt-get install jq`). The data is sent on stdin; the
 * program is an argument, never interpreted by a shell.
 */
export interface JqResult {
  ok: boolean;
  /** Why a rule did not hold or could not run; absent when it holds. */
  message?: string;
}

const JQ = process.env.EVIDENT_JQ ?? 'jq';

function run(args: string[], input: string, timeoutMs: number, keepOutput = false): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(JQ, args, { stdio: ['pipe', keepOutput ? 'pipe' : 'ignore', 'pipe'], timeout: timeoutMs }) as ChildProcessByStdio<Writable, Readable | null, Readable>;
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString('utf8'); });
    child.stdout?.on('data', (d: Buffer) => { if (stdout.length < 4096) stdout += d.toString('utf8'); });
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT'
        ? new EvidentError('UNAVAILABLE', `jq is not installed on the server (needed for custom attestation rules): install it, e.g. apt-get install jq`)
        : err);
    });
    child.on('close', (code, signal) => resolve({ code: signal ? -1 : code, stderr: stderr.trim(), stdout }));
    child.stdin.on('error', () => undefined); // jq may exit before reading everything
    child.stdin.end(input);
  });
}

/** Checks a rule compiles (jq exit status 3 is a compile error). */
export async function checkJqRule(rule: string): Promise<void> {
  if (rule.length === 0 || rule.length > 4096) throw new EvidentError('INVALID_ARGUMENT', 'a jq rule is 1 to 4096 characters');
  const { code, stderr } = await run(['-e', rule], 'null', 5000);
  if (code === 3 || code === 2) throw new EvidentError('INVALID_ARGUMENT', `jq rule ${JSON.stringify(rule)} does not compile: ${stderr}`);
}

/** `jq -e RULE`: exit 0 when the last output is neither false nor null (jq manual, --exit-status). */
export async function evaluateJqRule(rule: string, data: unknown, timeoutMs = 5000): Promise<JqResult> {
  const { code, stderr } = await run(['-e', rule], JSON.stringify(data), timeoutMs);
  if (code === 0) return { ok: true };
  if (code === 1) return { ok: false, message: 'the rule gave false or null' };
  if (code === 4) return { ok: false, message: 'the rule gave no output' };
  if (code === -1) return { ok: false, message: `the rule ran longer than ${timeoutMs} ms` };
  return { ok: false, message: stderr || `jq exited with status ${code}` };
}

/**
 * A summary expression of a custom attestation type (Kosli's `--summary NAME=EXPRESSION`): the first output
 * of `jq -c EXPRESSION` as JSON, cut to 4 KiB of text; null when it gives no output or fails (with why).
 */
export async function evaluateJqValue(expression: string, data: unknown, timeoutMs = 5000): Promise<{ value: unknown; message?: string }> {
  const { code, stderr, stdout } = await run(['-c', expression], JSON.stringify(data), timeoutMs, true);
  if (code !== 0) return { value: null, message: code === -1 ? `ran longer than ${timeoutMs} ms` : stderr || `jq exited with status ${code}` };
  const first = stdout.split('\n')[0] ?? '';
  try {
    return first ? { value: JSON.parse(first) } : { value: null, message: 'no output' };
  } catch {
    return { value: first.slice(0, 4096) };
  }
}
