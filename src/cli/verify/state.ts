import fs from 'node:fs';
import path from 'node:path';

/**
 * What `evident verify` remembers between runs, like Go's checksum-database client: the pinned verifier
 * key per server and org, and the latest checkpoint seen per log origin. Files are written atomically.
 */
export class VerifierState {
  constructor(private readonly dir: string) {}

  private file(kind: 'keys' | 'checkpoints', name: string): string {
    // encodeURIComponent keeps '/', ':' and '..' out of the file name.
    return path.join(this.dir, kind, encodeURIComponent(name).replace(/\./g, '%2E'));
  }

  private read(file: string): string | undefined {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private write(file: string, text: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, file);
  }

  pinnedKey(server: string): string | undefined {
    return this.read(this.file('keys', server))?.trim();
  }

  pinKey(server: string, verifierKey: string): void {
    this.write(this.file('keys', server), verifierKey + '\n');
  }

  /** The file the last checkpoint seen for `origin` is kept in (named in error messages). */
  checkpointFile(origin: string): string {
    return this.file('checkpoints', origin);
  }

  latestCheckpoint(origin: string): string | undefined {
    return this.read(this.file('checkpoints', origin));
  }

  saveCheckpoint(origin: string, note: string): void {
    this.write(this.file('checkpoints', origin), note);
  }
}
