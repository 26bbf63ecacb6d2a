import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authorize, type Action, type Principal, type ServiceBundle } from '../services/index.js';
import type { OrgRecord } from '../store/index.js';
import { isEvidentError } from '../core/index.js';
import { isLoopback, type AccessPolicy } from './access-policy.js';
import { schemas } from '../client/index.js';

export type Services = ServiceBundle;

export function typed(app: FastifyInstance) {
  return app.withTypeProvider<TypeBoxTypeProvider>();
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyInstance {
    accessPolicy: AccessPolicy;
  }
}

/** Error responses every authenticated route documents. */
export const errorResponses = {
  400: schemas.ErrorBody,
  401: schemas.ErrorBody,
  403: schemas.ErrorBody,
  404: schemas.ErrorBody,
};

/** Authenticates the caller and checks the role and org for one action; returns the org to act on. */
export async function access(services: Services, request: FastifyRequest, action: Action, orgName?: string): Promise<OrgRecord> {
  const policy = request.server.accessPolicy;
  const header = request.headers.authorization;
  const address = request.socket.remoteAddress ?? 'unknown';
  if (header === undefined && policy.insecureLocal && isLoopback(request.socket.remoteAddress)) {
    const org = await services.auth.org(orgName ?? policy.defaultOrg);
    request.principal = { tokenId: 'insecure-local', tokenName: 'insecure-local', role: 'admin', org };
    return org;
  }
  policy.failures.check(address);
  const secret = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  let principal: Principal;
  try {
    principal = await services.auth.authenticate(secret);
  } catch (err) {
    if (isEvidentError(err, 'UNAUTHENTICATED')) policy.failures.fail(address);
    throw err;
  }
  request.principal = principal;
  authorize(principal, action, orgName);
  // authorize() has checked the name is the token's own org: no need to look it up again.
  return principal.org;
}
