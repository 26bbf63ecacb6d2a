import fs from 'node:fs';
import path from 'node:path';
import { EvidentError } from '../core/index.js';

// One run at a time per workspace: two runs would race on the same outputs and on the cache index.
// `.evident/run.lock` holds the pid of the run; a lock whose process is gone is taken over.

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the workspace's run lock; returns the function that releases it. */
export function acquireRunLock(workspace: string): () => void {
  const dir = path.join(workspace, '.evident');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'run.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new EvidentError('CONFLICT', `another evident run (pid ${pid}) is using ${workspace}; wait for it, or remove ${file} if it is gone`);
      }
      fs.rmSync(file, { force: true }); // left by a run that ended without cleaning up
    }
  }
  throw new EvidentError('CONFLICT', `cannot take the run lock ${file}`);
}
