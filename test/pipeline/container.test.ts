import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSpec } from '../../src/pipeline/index.js';
import { containerPrefix } from '../../src/pipeline/container.js';
import { removeImage, testImage } from '../helpers/podman.js';
import { read, run, workspace, write } from './runner-helpers.js';

// Container isolation (seed 003 §7.2, ATTEST's `image:`; docs/runner.md "Isolation"): the step runs under
// Podman in its image, resolved to the image ID that the key, the receipt and the provenance record.

const problems = (yaml: string): string[] => parseSpec(yaml, 'attest.yaml').problems.map((p) => `${p.path}: ${p.message}`);

describe('attest.yaml: image and isolation: container', () => {
  it('refuses a workspace whose path Podman\'s --volume would misread, before running anything', () => {
    const step = { name: 's', run: 'true', inputs: [], outputs: [], needs: [], env: {}, cache: true, reproducible: false, isolation: 'container' as const, image: 'x' };
    expect(() => containerPrefix('/tmp/a:b', step, 'sha256:' + 'a'.repeat(64), [], '/usr/bin/podman')).toThrow(/cannot be mounted in a container/);
  });

  it('image implies container; container needs an image; image with another level, a bad reference and vm are refused by name', () => {
    expect(problems('version: "0.1"\nsteps:\n  b:\n    run: make\n    image: debian:bookworm\n')).toEqual([]);
    expect(problems('version: "0.1"\nsteps:\n  b:\n    run: make\n    isolation: container\n    image: localhost/build@sha256:' + 'a'.repeat(64) + '\n')).toEqual([]);
    expect(problems('version: "0.1"\nsteps:\n  b:\n    run: make\n    isolation: container\n').join()).toMatch(/steps\.b\.isolation: container needs the image/);
    expect(problems('version: "0.1"\nsteps:\n  b:\n    run: make\n    isolation: sandbox\n    image: debian\n').join()).toMatch(/steps\.b\.image: runs the step in a container, but isolation is sandbox/);
    expect(problems('version: "0.1"\nsteps:\n  b:\n    run: make\n    image: "--privileged"\n').join()).toMatch(/steps\.b\.image: "--privileged" is not an image reference/);
    expect(problems('version: "0.1"\nsteps:\n  b:\n    run: make\n    isolation: vm\n').join()).toMatch(/steps\.b\.isolation: VM isolation/);
  });
});

const first = testImage('evident-step', 'one');
const images: string[] = [];
afterAll(() => images.forEach(removeImage));

describe.skipIf('skip' in first)(`evident run in a container${'skip' in first ? ` (SKIPPED: ${first.skip})` : ''}`, () => {
  const image = 'image' in first ? first.image : '';
  images.push(image);
  const spec = (img: string) => `version: "0.1"
steps:
  probe:
    image: ${img}
    inputs: [in.txt]
    outputs: [out/]
    env: { GREETING: hello }
    run: |
      mkdir -p out
      cat in.txt > out/copy.txt
      id -u > out/uid
      cat /marker > out/marker
      echo "$GREETING" > out/greeting
      grep -c : /proc/net/dev > out/interfaces
      if touch /etc/written 2>/dev/null; then echo writable > out/root; else echo read-only > out/root; fi
      if echo x > in.txt 2>/dev/null; then echo writable > out/workspace; else echo read-only > out/workspace; fi
`;

  it('runs the step in the image: its files, the step env, the caller\'s uid, no network, read-only but the outputs', async () => {
    const dir = workspace(spec(image), { 'in.txt': 'input\n' });
    const ran = await run(dir);
    expect(ran.record.ok, JSON.stringify(ran.detail)).toBe(true);
    expect(read(dir, 'out/copy.txt')).toBe('input\n');
    expect(read(dir, 'out/marker')).toBe('one');
    expect(read(dir, 'out/greeting')).toBe('hello\n');
    expect(read(dir, 'out/uid').trim()).toBe(String(process.getuid!()));
    expect(read(dir, 'out/interfaces').trim()).toBe('1'); // lo only: --network none
    expect(read(dir, 'out/root').trim()).toBe('read-only');
    expect(read(dir, 'out/workspace').trim()).toBe('read-only');
    expect(read(dir, 'in.txt')).toBe('input\n');
    const step = ran.record.steps[0]!;
    const id = execFileSync('podman', ['image', 'inspect', '--format', '{{.Id}}', image]).toString().trim();
    expect(step).toMatchObject({ isolation: 'container', image: `${image}@sha256:${id}` });
  }, 120_000);

  it('keys the image ID, not its tag: the same tag on another image is a miss, and runs that image', async () => {
    const dir = workspace(spec(image.replace(/:.*$/, ':moving')), { 'in.txt': 'input\n' });
    execFileSync('podman', ['tag', image, image.replace(/:.*$/, ':moving')]);
    images.push(image.replace(/:.*$/, ':moving'));
    expect((await run(dir)).record.ok).toBe(true);
    const again = await run(dir);
    expect(again.detail.probe).toBe('cache hit');
    const second = testImage('evident-step', 'two');
    if ('skip' in second) throw new Error(second.skip);
    images.push(second.image);
    execFileSync('podman', ['tag', second.image, image.replace(/:.*$/, ':moving')]);
    const moved = await run(dir);
    expect(moved.detail.probe).toBe('cache miss (image changed)');
    expect(read(dir, 'out/marker')).toBe('two');
  }, 180_000);

  it('refuses to start when an image is neither here nor pullable, before any step runs', async () => {
    const dir = workspace(`version: "0.1"\nsteps:\n  first:\n    run: echo ran > first.txt\n    outputs: [first.txt]\n  boxed:\n    image: localhost:1/evident-none:1\n    run: "true"\n`);
    await expect(run(dir)).rejects.toThrow(/image localhost:1\/evident-none:1 is not on this machine and could not be pulled/);
    expect(fs.existsSync(path.join(dir, 'first.txt'))).toBe(false);
  }, 120_000);

  it('a failing command in the container fails the step with its exit code', async () => {
    const dir = workspace(`version: "0.1"\nsteps:\n  bad:\n    image: ${image}\n    run: exit 7\n`);
    write(dir, 'x', '');
    const ran = await run(dir);
    expect(ran.record.ok).toBe(false);
    expect(ran.record.steps[0]!.exitCode).toBe(7);
  }, 120_000);
});
