import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EvidentError } from '../core/index.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Checks a JSON text before it is parsed, in one linear pass: nesting deeper than `maxDepth` is refused
 * (5,000 levels overflowed the stack later, in JSON.stringify: F10), and so is any integer JSON.parse would
 * round (RFC 8259 §6: beyond 2^53 − 1 numbers are not exact in IEEE 754 doubles; `9007199254740993` was
 * signed as `…992`: F12). Returns a problem, or undefined.
 */
export function jsonTextProblem(text: string, maxDepth: number): string | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b /* [ { */) {
      if (++depth > maxDepth) return `JSON nested deeper than ${maxDepth} levels`;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < text.length && /[0-9eE.+-]/.test(text[j]!)) j++;
      const token = text.slice(i, j);
      i = j - 1;
      const value = Number(token);
      if (Number.isInteger(value) ? Math.abs(value) > MAX_SAFE : !Number.isFinite(value) && !/[.eE]/.test(token)) {
        return `the number ${token.length > 40 ? token.slice(0, 40) + '…' : token} is an integer beyond ±(2^53 − 1), which JSON numbers cannot carry exactly: send it as a string`;
      }
    }
  }
  return undefined;
}

/** Replaces the JSON body parser with one that runs jsonTextProblem first (then Fastify's own, with its prototype-poisoning checks). */
export function installJsonParser(app: FastifyInstance, maxDepth: number): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request: FastifyRequest, body: string | Buffer, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    const problem = jsonTextProblem(text, maxDepth);
    if (problem) {
      done(new EvidentError('INVALID_ARGUMENT', `invalid body: ${problem}`, { details: [{ path: 'body', message: problem }] }), undefined);
      return;
    }
    parse(request, text, done);
  });
}
