import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunObserver, RunRecord, StepRecord } from '../../src/pipeline/index.js';
import { exists, run, workspace } from './runner-helpers.js';

// The seam to the attestation writers (src/pipeline/types.ts): stepSucceeded the moment a step succeeds
// or is restored, before anything that needs it starts; runFinished at the end, also when a step failed.

const PIPELINE = `version: "0.1"
name: chain
steps:
  clone: { run: "echo src > src.txt", outputs: [src.txt] }
  build: { run: "cat src.txt > app.bin", needs: [clone], inputs: [src.txt], outputs: [app.bin] }
  notify: { run: "test -f build.attested && touch notify.saw-attestation; exit 1", needs: [build] }
`;

function recorder(dir: string) {
  const calls: string[] = [];
  const succeeded: StepRecord[] = [];
  const hashes: (string | undefined)[] = [];
  let finished: RunRecord | undefined;
  const observer: RunObserver = {
    stepSucceeded(step, ctx) {
      calls.push(`succeeded ${step.name} (${[...ctx.succeeded.keys()].join(',')})`);
      hashes.push(ctx.pipelineHash);
      succeeded.push(step);
      // What a provenance writer does: write next to the workspace, before any dependent starts.
      if (step.name === 'build') fs.writeFileSync(path.join(dir, 'build.attested'), 'yes');
    },
    runFinished(record) {
      calls.push('finished');
      finished = record;
    },
  };
  return { observer, calls, succeeded, hashes, finished: () => finished };
}

describe('run observers', () => {
  it('are told of clone and build before notify starts, and of the whole run when notify fails', async () => {
    const dir = workspace(PIPELINE);
    const rec = recorder(dir);
    const result = await run(dir, { observers: [rec.observer] });
    expect(rec.calls).toEqual(['succeeded clone (clone)', 'succeeded build (clone,build)', 'finished']);
    expect(exists(dir, 'notify.saw-attestation')).toBe(true);
    expect(result.detail.notify).toBe('exit code 1');

    const build = rec.succeeded[1]!;
    expect(build).toMatchObject({ name: 'build', command: 'cat src.txt > app.bin', needs: ['clone'], exitCode: 0, cache: 'miss', env: {} });
    // attest.yaml is a global input of every step (docs/cache.md "The key").
    expect(build.inputs).toEqual([
      { path: 'attest.yaml', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), executable: false },
      { path: 'src.txt', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), executable: false },
    ]);
    expect(build.outputs).toEqual([{ path: 'app.bin', sha256: build.inputs[1]!.sha256, executable: false }]);
    expect(build.key).toMatch(/^[0-9a-f]{64}$/);

    const record = rec.finished()!;
    expect(record.ok).toBe(false);
    expect(rec.hashes).toEqual([record.pipelineHash, record.pipelineHash]);
    expect(record.pipeline).toBe('chain');
    expect(record.workspace).toBe(dir);
    expect(record.pipelineHash).toMatch(/^[0-9a-f]{64}$/);
    expect(record.steps.map((s) => [s.name, s.exitCode])).toEqual([['clone', 0], ['build', 0], ['notify', 1]]);
    expect(Object.keys(record.graph)).toEqual(['clone', 'build', 'notify']);
  });

  it('hear of restored steps too, with the outputs of the run that made them', async () => {
    const dir = workspace(PIPELINE);
    await run(dir);
    expect(exists(dir, 'build.attested')).toBe(false);
    const rec = recorder(dir);
    await run(dir, { observers: [rec.observer] });
    expect(rec.succeeded.map((s) => [s.name, s.cache])).toEqual([['clone', 'hit'], ['build', 'hit']]);
    expect(rec.succeeded[1]!.outputs.map((o) => o.path)).toEqual(['app.bin']);
    expect(exists(dir, 'notify.saw-attestation')).toBe(true);
  });

  it('a failing observer fails the run without stopping the steps', async () => {
    const dir = workspace('version: "0.1"\nname: p\nsteps:\n  a: { run: "true" }\n  b: { run: "touch b.ran", needs: [a] }\n');
    const result = await run(dir, { observers: [{ stepSucceeded: () => { throw new Error('disk full'); } }] });
    expect(exists(dir, 'b.ran')).toBe(true);
    expect(result.record.ok).toBe(false);
    expect(result.observerErrors).toEqual(['after a: disk full', 'after b: disk full']);
  });
});
