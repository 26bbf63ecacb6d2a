import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

interface Sent {
  status: Promise<{ status: number; body: string }>;
  /** Sends the rest of the body. */
  finish(): void;
}

/**
 * POSTs a flow with `Expect: 100-continue` and holds back the body: once the server has answered 100 it has
 * parsed the headers, so the request is in flight (not an idle connection a shutdown may close).
 */
async function holdWrite(server: ServerProcess, name: string): Promise<Sent> {
  const body = JSON.stringify({ name, description: 'written while the server was asked to stop' });
  const url = new URL(`/api/v1/orgs/default/flows`, server.url);
  const request = http.request(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
  });
  const status = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    request.on('error', reject);
  });
  await new Promise<void>((resolve, reject) => {
    request.once('continue', () => resolve());
    request.once('error', reject);
  });
  return { status, finish: () => request.end(body) };
}

function exitOf(server: ServerProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => server.child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Resolves once the server's stderr says it has begun shutting down. */
function shutdownBegun(server: ServerProcess): Promise<void> {
  return new Promise((resolve) => {
    let text = '';
    server.child.stderr!.on('data', (d) => {
      text += d;
      if (text.includes('finishing the requests in flight')) resolve();
    });
  });
}

/** A plain GET /healthz on a new connection. */
function connect(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(new URL('/healthz', url), { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('evident server: graceful shutdown (a real process)', () => {
  // The restart and the log check once (SIGTERM, what a container runtime sends); SIGINT takes the same path.
  for (const [signal, restart] of [['SIGTERM', true], ['SIGINT', false]] as const) {
    it(`on ${signal}, acknowledges a write in flight, refuses new connections, exits 0${restart ? ', and the write is there after a restart' : ''}`, async () => {
      const dataDir = tempDir();
      const server = await startServerProcess(['--data-dir', dataDir]);
      const held = await holdWrite(server, 'in-flight');
      const exited = exitOf(server);
      const begun = shutdownBegun(server);
      server.child.kill(signal);
      await begun;

      // Stopped accepting: a new connection is refused while the held request is still open.
      // Stopped accepting: a new connection is refused (or, if it arrived while the listener was closing,
      // reset or answered 503) while the held request is still open.
      const refused = await connect(server.url).then((status) => `answered ${status}`, (err: NodeJS.ErrnoException) => err.code);
      expect(['ECONNREFUSED', 'ECONNRESET', 'answered 503']).toContain(refused);

      held.finish();
      const answer = await held.status;
      expect(answer.status).toBe(201);
      expect(JSON.parse(answer.body)).toMatchObject({ name: 'in-flight' });
      expect(await exited).toEqual({ code: 0, signal: null });
      if (!restart) return;

      const again = await startServerProcess(['--data-dir', dataDir]);
      try {
        const againEnv = { EVIDENT_HOST: again.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
        const flows = await evident(['list', 'flows', '--output', 'json'], againEnv);
        expect(flows.code, flows.stderr).toBe(0);
        expect(flows.stdout).toContain('"in-flight"');
        // The acknowledged write is in the log, and the log verifies.
        const verified = await evident(['verify', 'log', '--full'], { ...againEnv, HOME: tempDir('evident-home-') });
        expect(verified.code, verified.stderr + verified.stdout).toBe(0);
      } finally {
        await again.stop();
      }
    }, 120_000);
  }

  it('exits 1 when the requests in flight outlast --shutdown-timeout-ms', async () => {
    const server = await startServerProcess(['--data-dir', tempDir(), '--shutdown-timeout-ms', '300']);
    const held = await holdWrite(server, 'never-finished');
    held.status.catch(() => undefined);
    const exited = exitOf(server);
    server.child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 1, signal: null });
  }, 60_000);
});
