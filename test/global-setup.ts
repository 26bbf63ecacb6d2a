import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// One parent directory for every temporary directory the test run makes (test/helpers/engines.ts
// tempDir), removed when the run ends. The helper's own clean-up runs on a worker's `exit`, which a
// worker stopped by vitest does not always reach: ~1,000 directories were once left in /tmp.
export function setup(): () => void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-tests-'));
  // mkdtemp makes it 0700; tests that run the CLI as the user `nobody` (permission checks) must get through.
  fs.chmodSync(root, 0o755);
  // Read by the workers, which vitest forks after this has run.
  process.env.EVIDENT_TEST_TMPDIR = root;
  return () => {
    try {
      fs.rmSync(root, { recursive: true, force: true });
    } catch {
      // best effort: a directory a test made unreadable may stay
    }
  };
}
