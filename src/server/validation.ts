import { Ajv, type Options } from 'ajv';
import type { FastifyInstance } from 'fastify';

// RFC 3339 date-time (the one `format` the route schemas use), checked as ajv-formats' full mode does.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function options(coerceTypes: Options['coerceTypes']): Options {
  return {
    // Report every problem with its path, not only the first; never drop or rewrite what was sent.
    allErrors: true, removeAdditional: false, useDefaults: true, addUsedSchema: false, coerceTypes,
    formats: { 'date-time': { type: 'string', validate: (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)) } },
  };
}

/**
 * Route validation: path parameters, query strings and headers are text on the wire, so they are coerced
 * to the schema's types (`?limit=10`); a JSON body already carries its types, so it is never coerced.
 * Coercion had turned `"compliant": "yes"`-style values, `"name": 12345` and `["ta"]` into accepted,
 * logged values (reliability report F11).
 */
export function installValidators(app: FastifyInstance): void {
  const text = new Ajv(options('array'));
  const json = new Ajv(options(false));
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? json : text).compile(schema));
}
