import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { EvidentError } from '../core/index.js';

export function tooLarge(maxBytes: number): EvidentError {
  return new EvidentError('PAYLOAD_TOO_LARGE', `the file is larger than the limit of ${formatBytes(maxBytes)} (${maxBytes} bytes)`, {
    details: { max_bytes: maxBytes },
  });
}

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit++;
  }
  return `${value} ${units[unit]}`;
}

/** Hashes and counts what passes through, failing the moment the count passes maxBytes. */
export class Meter {
  readonly hash: Hash = createHash('sha256');
  size = 0;

  constructor(private readonly maxBytes: number) {
    if (!(maxBytes >= 0)) throw new EvidentError('INVALID_ARGUMENT', 'maxBytes must be a non-negative number');
  }

  take(chunk: Uint8Array): void {
    this.size += chunk.byteLength;
    if (this.size > this.maxBytes) throw tooLarge(this.maxBytes);
    this.hash.update(chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Accepts Buffers, Uint8Arrays and (defensively) strings from any async source as bytes. */
export function asBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new EvidentError('INVALID_ARGUMENT', 'a blob source must yield bytes');
}

/**
 * Passes bytes through while hashing them, holding back the latest chunk until the end: only when size
 * and digest match is it released. A tampered blob therefore never reaches a reader complete — over
 * HTTP the response stays short of its Content-Length, or fails before its headers when it is one chunk.
 */
class Verifier extends Transform {
  private readonly hash = createHash('sha256');
  private held: Buffer | undefined;
  private size = 0;

  constructor(private readonly digest: string, private readonly expectedSize: number | undefined) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    const previous = this.held;
    this.held = chunk;
    done(null, previous);
  }

  override _flush(done: TransformCallback): void {
    const actual = this.hash.digest('hex');
    if (actual !== this.digest || (this.expectedSize !== undefined && this.size !== this.expectedSize)) {
      done(tampered(this.digest, `its bytes hash to ${actual} (${this.size} bytes)`));
      return;
    }
    done(null, this.held);
  }
}

export function tampered(digest: string, why: string): EvidentError {
  return new EvidentError('TAMPERED', `stored blob sha256:${digest} does not match its digest: ${why}`, { details: { digest } });
}

/** `source` piped through a Verifier; an error of the source is passed on. */
export function verifying(source: Readable, digest: string, expectedSize?: number): Readable {
  const verifier = new Verifier(digest, expectedSize);
  source.on('error', (err) => verifier.destroy(err));
  // A reader that gives up early must release the file handle or the database reads.
  verifier.on('close', () => source.destroy());
  return source.pipe(verifier);
}
