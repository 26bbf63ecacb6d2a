import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authorize, type Action, type Principal, type ServiceBundle } from '../services/index.js';
import type { OrgRecord } from '../store/index.js';
import { schemas } from '../client/index.js';

export type Services = ServiceBundle;

export function typed(app: FastifyInstance) {
  return app.withTypeProvider<TypeBoxTypeProvider>();
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
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
  const header = request.headers.authorization;
  const secret = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  const principal = await services.auth.authenticate(secret);
  request.principal = principal;
  authorize(principal, action, orgName);
  // authorize() has checked the name is the token's own org: no need to look it up again.
  return principal.org;
}
