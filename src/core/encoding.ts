import { EvidentError } from './errors.js';

const HEX = /^(?:[0-9a-f]{2})*$/;

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Strict lower-case hex: anything else (odd length, upper case, other characters) is rejected. */
export function fromHex(hex: string, what = 'hex value', expectedBytes?: number): Uint8Array {
  if (typeof hex !== 'string' || !HEX.test(hex) || (expectedBytes !== undefined && hex.length !== expectedBytes * 2)) {
    const size = expectedBytes === undefined ? '' : ` of ${expectedBytes * 2} characters`;
    throw new EvidentError('INVALID_ARGUMENT', `${what} must be lower-case hex${size}`, {
      details: [{ path: what, message: 'not lower-case hex' + size }],
    });
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 with padding; Node's decoder silently skips bad characters, so check first. */
export function fromBase64(b64: string, what = 'base64 value', expectedBytes?: number): Uint8Array {
  if (typeof b64 !== 'string' || !B64.test(b64)) {
    throw new EvidentError('INVALID_ARGUMENT', `${what} is not standard base64`, {
      details: [{ path: what, message: 'not standard base64' }],
    });
  }
  const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
  if (expectedBytes !== undefined && bytes.length !== expectedBytes) {
    throw new EvidentError('INVALID_ARGUMENT', `${what} must decode to ${expectedBytes} bytes, not ${bytes.length}`, {
      details: [{ path: what, message: `wrong length ${bytes.length}` }],
    });
  }
  return bytes;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
