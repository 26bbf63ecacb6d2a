import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './engines.js';

// A container image for tests, made from this machine's own binaries (no registry is reachable here), and
// a Podman that can run it. Where Podman's default runtime cannot run containers on this machine (seen here:
// crun may not set its default rlimits, and refuses hosts with cgroups v1 and v2 mounted together), the
// standard knob, a containers.conf named by CONTAINERS_CONF, selects runc and rlimits it may set — as
// scripts/test-container.sh does. Evident itself passes Podman no engine options.

const TOOLS = ['sh', 'cat', 'cp', 'mkdir', 'id', 'grep', 'ls', 'touch', 'echo', 'wc'];

function which(tool: string): string | undefined {
  for (const dir of ['/usr/bin', '/bin']) if (fs.existsSync(path.join(dir, tool))) return fs.realpathSync(path.join(dir, tool));
  return undefined;
}

function podman(args: string[], input?: Buffer): string {
  return execFileSync('podman', args, { input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 120_000, maxBuffer: 16 << 20 }).toString().trim();
}

function tryRun(image: string): string | undefined {
  try {
    podman(['run', '--rm', '--network', 'none', image, '/bin/sh', '-c', 'true']);
    return undefined;
  } catch (err) {
    return String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim().split('\n').pop();
  }
}

/**
 * Imports an image holding TOOLS (and `marker`, so that two calls with different markers make two images
 * with different IDs) under `name`. Returns undefined with the reason when Podman cannot run it here.
 */
export function testImage(name: string, marker = 'one'): { image: string } | { skip: string } {
  if (!which('podman')) return { skip: 'podman is not installed' };
  const root = tempDir('evident-image-');
  for (const tool of TOOLS) {
    const bin = which(tool);
    if (!bin) continue;
    fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
    fs.copyFileSync(bin, path.join(root, 'bin', tool));
    fs.chmodSync(path.join(root, 'bin', tool), 0o755);
    for (const lib of execFileSync('ldd', [bin]).toString().match(/\/\S+/g) ?? []) {
      fs.mkdirSync(path.join(root, path.dirname(lib)), { recursive: true });
      if (!fs.existsSync(path.join(root, lib))) fs.copyFileSync(lib, path.join(root, lib));
    }
  }
  fs.writeFileSync(path.join(root, 'marker'), marker);
  for (const dir of ['tmp', 'proc', 'dev', 'sys', 'etc']) fs.mkdirSync(path.join(root, dir), { recursive: true });
  const tar = execFileSync('tar', ['-C', root, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-c', '.'], { maxBuffer: 256 << 20 });
  const image = `localhost/${name}:${createHash('sha256').update(tar).digest('hex').slice(0, 12)}`;
  podman(['import', '--change', 'ENV PATH=/bin', '-', image], tar);
  let problem = tryRun(image);
  if (problem !== undefined && process.env.CONTAINERS_CONF === undefined) {
    const conf = path.join(tempDir('evident-containers-conf-'), 'containers.conf');
    fs.writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n\n[engine]\nruntime = "runc"\n');
    process.env.CONTAINERS_CONF = conf;
    problem = tryRun(image);
    if (problem !== undefined) delete process.env.CONTAINERS_CONF;
  }
  return problem === undefined ? { image } : { skip: `Podman cannot run a container here: ${problem}` };
}

export function removeImage(image: string): void {
  try {
    podman(['rmi', '-f', image]);
  } catch {
    // best effort
  }
}
