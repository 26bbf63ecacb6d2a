import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

// Part of `npm run bench:runner` (issue #19 item 2): turbo with its remote cache at an Evident server
// (`--cache=remote:r`: every task restored over HTTP from `/v8/artifacts`) side by side with turbo's own
// local cache (`--cache=local:r`), on the same 200-package workspace. The server is a real process on
// loopback, with the embedded store in a temporary directory.

export interface Timed { label: string; wall: number; cpu: number }

async function startServer(evidentBin: string, dataDir: string): Promise<{ url: string; token: string; stop: () => void }> {
  const child = spawn(process.execPath, [evidentBin, '--output', 'json', 'server', '--port', '0', '--log-level', 'warn', '--data-dir', dataDir], {
    env: { PATH: process.env.PATH ?? '', EVIDENT_NO_DEMO: '1' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      buffer += line + '\n';
      try {
        const info = JSON.parse(buffer) as { url: string; first_admin: { token: string } };
        resolve({ url: info.url, token: info.first_admin.token, stop: () => child.kill('SIGTERM') });
      } catch {
        // the start-up report is not complete yet
      }
    });
    child.once('exit', (code) => reject(new Error(`evident server exited ${code}`)));
  });
}

/**
 * Fills the server from `dir` once, then times the two warm forms with `repeat` (the bench's own median
 * of RUNS). Returns the rows, or undefined when the upload failed.
 */
export async function turboRemoteVsLocal(
  evidentBin: string, turboBin: string, dir: string, env: NodeJS.ProcessEnv,
  repeat: (label: string, command: string, cwd: string, env?: NodeJS.ProcessEnv) => Timed | undefined,
  measure: (command: string, cwd: string, env?: NodeJS.ProcessEnv) => { ok: boolean },
): Promise<Timed[] | undefined> {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-turbo-server-'));
  const server = await startServer(evidentBin, data);
  try {
    const remote = `--api=${server.url} --token=${server.token} --team=default`;
    const base = `${turboBin} run build --output-logs=none`;
    // Fill the remote cache (the local one is already full from the bench's first turbo run).
    if (!measure(`${base} --force ${remote}`, dir, env).ok) {
      console.log('turbo remote cache: the upload run failed; left out');
      return undefined;
    }
    console.log('\nturbo: remote cache at Evident vs its own local cache (every task a hit, outputs restored):');
    const local = repeat('turbo, local cache', `rm -rf packages/*/out.txt && ${base} --cache=local:r`, dir, env);
    const remoteRow = repeat('turbo, remote at Evident', `rm -rf packages/*/out.txt .turbo/cache && ${base} --cache=remote:r ${remote}`, dir, env);
    if (local && remoteRow) console.log(`remote (Evident) / local: wall ${(remoteRow.wall / local.wall).toFixed(2)}x, cpu ${(remoteRow.cpu / local.cpu).toFixed(2)}x  (200 artifacts over loopback HTTP)`);
    return [local, remoteRow].filter((r): r is Timed => r !== undefined);
  } finally {
    server.stop();
    fs.rmSync(data, { recursive: true, force: true });
  }
}
