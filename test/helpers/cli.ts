import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

/**
 * The shipped CLI (package.json `bin`): the CommonJS launcher of the esbuild bundles, so that the tests run what
 * ships (the common networked commands from the CommonJS bundle of their group, the rest from the ES entry:
 * src/cli/fast-route.ts).
 */
export const CLI = path.resolve('dist/cli/evident.cjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `evident` binary with a clean environment: only what the test passes, plus PATH.
 * `input` is written to its stdin (the `tool ... | evident ... --from-file -` pipelines).
 */
export function evident(args: string[], env: Record<string, string> = {}, input?: string | Buffer): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    child.stdin?.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** What `evident --output json server` prints once listening. */
export interface StartupReport {
  url: string;
  store: string;
  verifier_key: string;
  first_admin: { org: string; token: string } | null;
  demo: { org: string; token: string; ui_url: string; log_entries: number; seed_millis: number } | null;
}

export interface ServerProcess {
  url: string;
  token: string | undefined;
  verifierKey: string;
  /** The whole JSON start-up report. */
  info: StartupReport;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `evident server` on a free port and waits for its JSON start-up report. Without the demo organisation
 * (EVIDENT_NO_DEMO=1) unless `env` says otherwise: most suites need an empty server, and fast.
 */
export function startServerProcess(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--output', 'json', 'server', '--port', '0', '--log-level', 'warn', ...args], {
      env: { PATH: process.env.PATH ?? '', EVIDENT_NO_DEMO: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    let buffer = '';
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      buffer += line + '\n';
      try {
        const info = JSON.parse(buffer);
        resolve({
          url: info.url, token: info.first_admin?.token, verifierKey: info.verifier_key, info, child,
          stop: () => new Promise((done) => { child.once('exit', () => done()); child.kill('SIGTERM'); }),
        });
      } catch {
        // the JSON document is not complete yet
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
  });
}
