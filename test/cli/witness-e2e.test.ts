import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWitnessPolicy, generateSignerKey, makeWitnessPolicy, parseSignerKey, renamedSigner } from '../../src/ledger/index.js';
import { CLI, evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// Issue #17 item 3, "done when": three witness processes and a log server; a client that never saw the log
// accepts the honest log with a 2-of-3 witness policy, and refuses a forked log (the operator rewrote history
// and re-signed it with the same key), because the witnesses that saw the honest log refuse to cosign the fork.

interface WitnessProcess {
  url: string;
  verifierKey: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

function startWitnessProcess(name: string, logKey: string): Promise<WitnessProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--output', 'json', 'witness', '--port', '0', '--log-level', 'warn', '--data-dir', tempDir('evident-witness-'), '--name', name, '--log', logKey], {
      env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    let buffer = '';
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      buffer += line + '\n';
      try {
        const info = JSON.parse(buffer) as { url: string; verifier_key: string };
        resolve({ url: info.url, verifierKey: info.verifier_key, child, stop: () => new Promise((done) => { child.once('exit', () => done()); child.kill('SIGTERM'); }) });
      } catch {
        // not a whole JSON document yet
      }
    });
    child.on('exit', (code) => reject(new Error(`witness exited ${code}: ${stderr}`)));
  });
}

async function checkpointOf(server: ServerProcess): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/orgs/default/log/checkpoint`, { headers: { authorization: `Bearer ${server.token}` } });
  return res.text();
}

/** Waits until the server serves its head checkpoint with `count` witness cosignatures (it submits in the background). */
async function waitForCosigned(server: ServerProcess, policy: ReturnType<typeof makeWitnessPolicy>, count: number): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const note = await checkpointOf(server);
    const valid = checkWitnessPolicy(note, { ...policy, threshold: 1 }).valid;
    if (valid >= count) return note;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no checkpoint with ${count} cosignatures: ${await checkpointOf(server)}`);
}

const clientEnv = (server: ServerProcess) => ({ HOME: tempDir('evident-fresh-client-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! });

describe('witnesses stop a forked log from fooling a first-time client (real processes)', () => {
  const logKey = generateSignerKey('evident.test').signerKey;
  const logVerifierKey = renamedSigner(parseSignerKey(logKey), 'evident.test/default').verifierKey;
  let witnesses: WitnessProcess[] = [];
  let honest: ServerProcess;
  let honestDir: string;
  let policyFlags: string[];

  beforeAll(async () => {
    witnesses = await Promise.all([1, 2, 3].map((n) => startWitnessProcess(`witness.test/w${n}`, logVerifierKey)));
    policyFlags = [...witnesses.flatMap((w) => ['--witness', w.verifierKey]), '--witness-threshold', '2', '--key', logVerifierKey];
    honestDir = tempDir();
    honest = await startServerProcess(['--data-dir', honestDir, '--log-key', logKey, ...witnesses.flatMap((w) => ['--witness', `${w.url}=${w.verifierKey}`])]);
  }, 180_000);
  afterAll(async () => {
    await honest?.stop();
    await Promise.all(witnesses.filter((w) => w.child.exitCode === null && w.child.signalCode === null).map((w) => w.stop()));
  });

  it('serves the honest checkpoint cosigned by all three witnesses, and a fresh client with a 2-of-3 policy accepts it', async () => {
    const env = clientEnv(honest);
    for (const name of ['runner', 'saver', 'web']) {
      const made = await evident(['create', 'flow', name, '--description', 'honest'], env);
      expect(made.code, made.stderr).toBe(0);
    }
    const policy = makeWitnessPolicy(witnesses.map((w) => w.verifierKey), 2);
    await waitForCosigned(honest, policy, 3);
    const ok = await evident(['verify', 'log', '--full', ...policyFlags], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/Witnessed: 3 valid witness cosignatures of 2 required/);
  }, 240_000);

  it('refuses the forked log (same key, rewritten history): its checkpoint cannot gather 2 cosignatures', async () => {
    const fork = await startServerProcess(['--data-dir', tempDir(), '--log-key', logKey, ...witnesses.flatMap((w) => ['--witness', `${w.url}=${w.verifierKey}`])]);
    let forkStderr = '';
    fork.child.stderr!.on('data', (d) => (forkStderr += d));
    try {
      const env = clientEnv(fork);
      for (const name of ['runner', 'saver', 'web', 'extra']) {
        const made = await evident(['create', 'flow', name, '--description', 'rewritten'], env);
        expect(made.code, made.stderr).toBe(0);
      }
      // Each witness has refused the fork's newest checkpoint (the server says so on stderr).
      for (let i = 0; i < 200 && (forkStderr.match(/refused/g) ?? []).length < 3; i++) await new Promise((r) => setTimeout(r, 50));
      expect(forkStderr).toMatch(/refused/);
      // Without witnesses a first-time client has nothing to compare with: the fork verifies (reliability report, test 5).
      const naive = await evident(['verify', 'log', '--full', '--key', logVerifierKey], clientEnv(fork));
      expect(naive.code, naive.stderr).toBe(0);
      const refused = await evident(['verify', 'log', '--full', ...policyFlags], clientEnv(fork));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/0 valid witness cosignatures of 2 required/);
      // The same policy from the environment (a fresh client again).
      const fromEnv = await evident(['verify', 'log', '--key', logVerifierKey], {
        ...clientEnv(fork), EVIDENT_WITNESS: witnesses.map((w) => w.verifierKey).join(','), EVIDENT_WITNESS_THRESHOLD: '2',
      });
      expect(fromEnv.code).toBe(1);
      expect(fromEnv.stderr).toMatch(/0 valid witness cosignatures of 2 required/);
    } finally {
      await fork.stop();
    }
    // The witnesses kept following the honest log.
    const more = await evident(['create', 'flow', 'after-fork', '--description', 'honest'], clientEnv(honest));
    expect(more.code, more.stderr).toBe(0);
    await waitForCosigned(honest, makeWitnessPolicy(witnesses.map((w) => w.verifierKey), 2), 3);
    const ok = await evident(['verify', 'log', ...policyFlags], clientEnv(honest));
    expect(ok.code, ok.stderr).toBe(0);
  }, 240_000);

  it('a VSA carries the cosigned checkpoint (verified offline under the policy); a restarted server serves the recorded cosignatures while every witness is down', async () => {
    const env = clientEnv(honest);
    const fp = 'e'.repeat(64);
    for (const args of [['begin', 'trail', 't1', '--flow', 'runner'], ['attest', 'artifact', '--fingerprint', fp, '--name', 'app', '--flow', 'runner', '--trail', 't1']]) {
      const res = await evident(args, env);
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
    }
    const vsa = `${tempDir('evident-vsa-')}/app.vsa.json`;
    const asserted = await evident(['assert', 'artifact', '--fingerprint', fp, '--flow', 'runner', '--vsa', vsa], env);
    expect(asserted.code, asserted.stderr).toBe(0);
    const offline = await evident(['verify', 'vsa', vsa, '--offline', ...policyFlags], env);
    expect(offline.code, offline.stderr + offline.stdout).toBe(0);

    const policy = makeWitnessPolicy(witnesses.map((w) => w.verifierKey), 2);
    const cosigned = await waitForCosigned(honest, policy, 3);
    const token = honest.token;
    await honest.stop();
    await Promise.all(witnesses.map((w) => w.stop()));
    honest = await startServerProcess(['--data-dir', honestDir, '--log-key', logKey, '--witness-timeout-ms', '500', ...witnesses.flatMap((w) => ['--witness', `${w.url}=${w.verifierKey}`])]);
    honest.token = token; // the first admin token is printed once, on the first start
    expect(await checkpointOf(honest)).toBe(cosigned);
    const fresh = await evident(['verify', 'log', ...policyFlags], clientEnv(honest));
    expect(fresh.code, fresh.stderr).toBe(0);
  }, 240_000);
});
