import { EvidentError } from '../core/index.js';

type ErrorOptions = NonNullable<ConstructorParameters<typeof EvidentError>[2]>;
import {
  parseEnvironmentPolicy, parseFlowTemplate, parseJUnit, parseProvenanceDocument, parseSarif,
  type FlowTemplate, type JUnitReport, type PolicyDefinition, type ProvenanceDocument, type SarifReport,
} from '../formats/index.js';

/**
 * The parsers of untrusted files (reports, flow templates, environment policies), run in worker threads by
 * ParsePool (or in this thread). Each answer is plain data that survives a structured clone: a policy comes
 * back as its definition, whose expressions the caller compiles (compilePolicyDefinition).
 */
export interface ParseResults {
  junit: JUnitReport;
  sarif: SarifReport;
  provenance: ProvenanceDocument;
  template: FlowTemplate;
  policy: PolicyDefinition;
}
export type ParseKind = keyof ParseResults;

const utf8 = new TextDecoder('utf-8');

/** Runs one parse; shared by the worker and the in-thread fallback, so both give the same answers. */
export function runParse(kind: ParseKind, bytes: Uint8Array, source: string): ParseResults[ParseKind] {
  const text = utf8.decode(bytes);
  if (kind === 'junit') return parseJUnit(text, source);
  if (kind === 'sarif') return parseSarif(text, source);
  if (kind === 'provenance') return parseProvenanceDocument(text);
  if (kind === 'template') return parseFlowTemplate(text, source);
  if (kind === 'policy') return parseEnvironmentPolicy(text, source).definition;
  throw new EvidentError('INVALID_ARGUMENT', `unknown report kind ${JSON.stringify(kind)}`);
}

/** An error as it crosses the thread boundary (structured clone keeps no class). */
export interface WireError { code: string; message: string; details?: unknown; evident: boolean }

export function toWire(err: unknown): WireError {
  if (err instanceof EvidentError) return { code: err.code, message: err.message, details: err.details, evident: true };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err), evident: false };
}

export function fromWire(wire: WireError): Error {
  if (wire.evident) return new EvidentError(wire.code as EvidentError['code'], wire.message, { details: wire.details as ErrorOptions['details'] });
  return new Error(wire.message);
}
