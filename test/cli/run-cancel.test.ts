import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseReceiptText } from '../../src/pipeline/index.js';
import { CLI } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// Issue 14 finding 5: SIGINT/SIGTERM to `evident run` stop everything a step started (its whole process
// group), SIGKILL after the grace period for what ignores the signal; the run exits 130/143 and its
// receipt says cancelled.

/** Alive and not a zombie (a zombie is gone for every purpose here; only its parent's wait is missing). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(file: string): Promise<void> {
  for (let i = 0; i < 600 && !(fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() !== ''); i++) await new Promise((r) => setTimeout(r, 50));
}

async function cancelled(signal: NodeJS.Signals, command: string): Promise<{ code: number | null; stderr: string; dir: string; pids: number[] }> {
  const dir = tempDir('evident-cancel-');
  fs.writeFileSync(path.join(dir, 'attest.yaml'), `version: "0.1"\nname: cancel\nsteps:\n  slow: { run: ${JSON.stringify(command)}, cache: false }\n  after: { run: "true", needs: [slow] }\n`);
  const child = spawn(process.execPath, [CLI, 'run', '-f', path.join(dir, 'attest.yaml')], {
    env: { PATH: process.env.PATH ?? '', HOME: tempDir('evident-home-'), EVIDENT_KILL_GRACE_MS: '300' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor(path.join(dir, 'pids'));
  const pids = fs.readFileSync(path.join(dir, 'pids'), 'utf8').trim().split(/\s+/).map(Number);
  expect(pids.every(alive)).toBe(true);
  child.kill(signal);
  return { code: await exited, stderr, dir, pids };
}

describe('evident run, cancelled', () => {
  it('SIGTERM: the background grandchild is gone, exit 143, the receipt says cancelled', async () => {
    const r = await cancelled('SIGTERM', 'sleep 30 & echo $! > pids; wait');
    expect(r.code, r.stderr).toBe(143);
    expect(r.pids.some(alive)).toBe(false);
    expect(r.stderr).toMatch(/cancelled by SIGTERM/);
    const receipts = path.join(r.dir, '.evident/cache/receipts');
    const { receipt } = parseReceiptText(fs.readFileSync(path.join(receipts, fs.readdirSync(receipts)[0]!), 'utf8'));
    expect(receipt!.status).toBe('cancelled');
  }, 60_000);

  it('SIGINT: exit 130; a descendant that ignores the signal is SIGKILLed after the grace period', async () => {
    const r = await cancelled('SIGINT', "sh -c 'trap \"\" INT TERM; echo $$ > pids.tmp; mv pids.tmp pids; sleep 30' & wait");
    expect(r.code, r.stderr).toBe(130);
    expect(r.pids.some(alive)).toBe(false);
  }, 60_000);
});
