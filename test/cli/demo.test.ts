import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { describe, expect, it } from 'vitest';
import { CLI, evident, startServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// The demo organisation is seeded by `evident server` on first start (docs/demo.md); the helper's servers
// start without it (EVIDENT_NO_DEMO=1), so these tests ask for it by clearing that variable.
const WITH_DEMO = { EVIDENT_NO_DEMO: '' };

describe('evident server: the demo organisation', () => {
  it('seeds cyber-dojo on first start, prints its token and the UI URL, and its log verifies; a restart does not seed again', async () => {
    const dataDir = tempDir();
    const home = tempDir('evident-home-');
    const server = await startServerProcess(['--data-dir', dataDir], WITH_DEMO);
    let entries: number;
    try {
      const demo = server.info.demo!;
      expect(demo).toMatchObject({ org: 'cyber-dojo', ui_url: `${server.url}/` });
      expect(demo.token).toMatch(/^evd_/);
      expect(demo.token).not.toBe(server.token);
      expect(server.info.first_admin).toMatchObject({ org: 'default' });
      const env = { HOME: home, EVIDENT_HOST: server.url, EVIDENT_ORG: 'cyber-dojo', EVIDENT_API_TOKEN: demo.token };
      const verify = await evident(['verify', 'log', '--full'], env);
      expect(verify.code, verify.stderr).toBe(0);
      entries = Number(/All (\d+) entries re-derived/.exec(verify.stdout)?.[1]);
      expect(entries).toBeGreaterThan(300);
      const plan = await evident(['release', 'plan', 'aws-beta', 'aws-prod', '--output', 'json'], env);
      expect(plan.code, plan.stderr).toBe(0);
      expect(JSON.parse(plan.stdout).map((i: { incoming_flow: string }) => i.incoming_flow).sort()).toEqual(['differ', 'saver']);
      const asserted = await evident(['assert', 'snapshot', 'aws-prod'], env);
      expect(asserted.code).toBe(1);
      expect(asserted.stdout + asserted.stderr).toMatch(/dashboard/);
    } finally {
      await server.stop();
    }

    const again = await startServerProcess(['--data-dir', dataDir], WITH_DEMO);
    try {
      expect(again.info.demo).toBeNull();
      expect(again.info.first_admin).toBeNull();
      const env = { HOME: home, EVIDENT_HOST: again.url, EVIDENT_ORG: 'cyber-dojo', EVIDENT_API_TOKEN: server.info.demo!.token };
      const verify = await evident(['verify', 'log', '--full'], env);
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stdout).toContain(`All ${entries} entries re-derived`);
    } finally {
      await again.stop();
    }
  }, 60_000);

  it('leaves only the default organisation with --no-demo, and with EVIDENT_NO_DEMO=1', async () => {
    for (const [args, env] of [[['--no-demo'], WITH_DEMO], [[], { EVIDENT_NO_DEMO: '1' }]] as const) {
      const server = await startServerProcess(['--data-dir', tempDir(), ...args], env);
      try {
        expect(server.info.demo).toBeNull();
        const base = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_API_TOKEN: server.token! };
        expect((await evident(['list', 'flows'], { ...base, EVIDENT_ORG: 'default' })).code).toBe(0);
        const demo = await evident(['list', 'flows'], { ...base, EVIDENT_ORG: 'cyber-dojo' });
        expect(demo.code).not.toBe(0);
      } finally {
        await server.stop();
      }
    }
  }, 60_000);

  it('says in its text output where the UI is and how to sign in', async () => {
    const child = spawn(process.execPath, [CLI, 'server', '--port', '0', '--log-level', 'warn', '--data-dir', tempDir()], {
      env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const lines: string[] = [];
      await new Promise<void>((resolve, reject) => {
        readline.createInterface({ input: child.stdout! }).on('line', (line) => {
          lines.push(line);
          if (line.startsWith('Then try: evident list flows')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`server exited ${code}: ${lines.join('\n')}`)));
      });
      const text = lines.join('\n');
      const url = /listening on (http:\/\/\S+)/.exec(text)![1]!;
      expect(text).toContain(`Open ${url}/ in a browser and sign in by pasting this token`);
      expect(text).toMatch(new RegExp(`export EVIDENT_HOST=${url.replace(/\./g, '\\.')} EVIDENT_ORG=cyber-dojo EVIDENT_API_TOKEN=evd_\\S+`));
    } finally {
      await new Promise((done) => { child.once('exit', done); child.kill('SIGTERM'); });
    }
  }, 60_000);
});
