import { EvidentError } from './errors.js';

/**
 * Names of organisations (and later flows, environments, ...) appear in URLs, log origins and file
 * names, so they are restricted to a safe alphabet: a letter or digit first, then letters, digits,
 * `.`, `_` and `-`, at most 64 characters (Kosli's rule, minus spaces).
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isValidName(name: string): boolean {
  return NAME.test(name) && !name.includes('..');
}

export function checkName(kind: string, name: unknown): string {
  if (typeof name !== 'string' || !isValidName(name)) {
    throw new EvidentError(
      'INVALID_ARGUMENT',
      `invalid ${kind} name ${JSON.stringify(name)}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      { details: [{ path: kind, message: 'invalid name' }] },
    );
  }
  return name;
}

export const ROLES = ['admin', 'member', 'reporter', 'reader'] as const;
export type Role = (typeof ROLES)[number];

export function checkRole(role: unknown): Role {
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    throw new EvidentError('INVALID_ARGUMENT', `invalid role ${JSON.stringify(role)}: use one of ${ROLES.join(', ')}`, {
      details: [{ path: 'role', message: 'invalid role' }],
    });
  }
  return role as Role;
}
