export { canonicalJson, canonicalJsonBytes } from './canonical-json.js';
export {
  DirAccumulator, FINGERPRINT, IGNORE_FILES, checkExcludePattern, dirFingerprint, fromByteString, goClean, goMatch, isFingerprint,
  nameDigests, parseIgnoreFile, planDirWalk, resolveExcludes, sha256Hex, toByteString, unhashable,
} from './fingerprint.js';
export type { EntryKind, PlanOptions, TreeNode, WalkEntry, WalkPlan } from './fingerprint.js';
export { canonicalMembers, mergeCanonicalMembers } from './canonical-json.js';
export type { CanonicalMember } from './canonical-json.js';
export type { CanonicalMembers } from './canonical-json.js';
export { JUNIT_MAX_CHARS, JUNIT_MAX_DEPTH, JUNIT_MAX_FAILED_CASES, junitCompliant, mergeJUnit, parseJUnit } from './junit.js';
export type { JUnitFailedCase, JUnitReport, JUnitSuite, JUnitTotals } from './junit.js';
export { SARIF_MAX_CHARS, SARIF_MAX_TOP, parseSarif, sarifCompliant } from './sarif.js';
export type { SarifLevel, SarifReport, SarifSeverity, SarifThreshold, SarifTopResult } from './sarif.js';
export { DSSE_MAX_PAYLOAD_BYTES, decodeDsseBase64, dsseVerifierForKey, pae, parseEnvelope, parseEnvelopeJson, signEnvelope, verifyEnvelope } from './dsse.js';
export type { DsseEnvelope, DsseSigner, DsseVerifier, ParsedEnvelope } from './dsse.js';
export { IN_TOTO_PAYLOAD_TYPE, STATEMENT_V1_TYPE, buildStatement, digestSetProblems, parseStatement } from './in-toto-statement.js';
export type { DigestSet, Statement, StatementSubject } from './in-toto-statement.js';
export { EVIDENT_RUN_BUILD_TYPE, SLSA_PROVENANCE_V1, buildProvenance, parseProvenance } from './slsa.js';
export type { BuildDefinition, ResourceDescriptor, RunDetails, SlsaProvenance } from './slsa.js';
export { compareCodePoints, parseSslibCanonicalJson, sslibCanonicalBytes, sslibCanonicalJson } from './securesystemslib-json.js';
export type { SslibJson } from './securesystemslib-json.js';
export {
  buildInspection, buildLayout, buildLink, buildStep, ed25519InTotoKey, fnmatchEscape, formatExpires, formatInTotoPublicKey,
  formatMetablock, inTotoKeyId, parseInTotoPublicKey, parseLinkMetablock, rule, signMetablock, verifyMetablock,
} from './in-toto-link.js';
export type {
  ArtifactRule, Artifacts, InTotoPublicKey, LayoutInspection, LayoutSigned, LayoutStep, LinkSigned, Metablock, MetablockSigner,
} from './in-toto-link.js';
export { REGEX_MAX_INPUT, REGEX_MAX_PATTERN, RegexSyntaxError, compileSafeRegex } from './policy-regex.js';
export type { SafeRegex } from './policy-regex.js';
export { ExpressionEvaluationError, ExpressionSyntaxError, formatLocated } from './policy-expr-errors.js';
export type { EvaluationSite, ExpressionOrigin, LocatedProblem } from './policy-expr-errors.js';
export { EXPRESSION_MAX_CHARS } from './policy-expr-lexer.js';
export { EXPRESSION_MAX_DEPTH, parseExpression, printExpression } from './policy-expr-parser.js';
export type { CompareOp, ContextRef, Expr } from './policy-expr-parser.js';
export { compileExpression } from './policy-expr-eval.js';
export type { ArtifactContext, CompiledExpression, ExpressionContext, FlowContext } from './policy-expr-eval.js';
export {
  ATTESTATION_TYPES, EMPTY_FLOW_TEMPLATE, FLOW_TEMPLATE_SCHEMA, FLOW_TEMPLATE_SCHEMA_ID, attestationTypeProblem, parseFlowTemplate,
} from './flow-template.js';
export type { FlowTemplate, TemplateArtifact, TemplateAttestation } from './flow-template.js';
export { ENVIRONMENT_POLICY_SCHEMA, ENVIRONMENT_POLICY_SCHEMA_ID, KOSLI_POLICY_SCHEMA_URL, compilePolicyDefinition, parseEnvironmentPolicy } from './environment-policy.js';
export type { AttestationRule, BooleanRule, CompiledBooleanRule, CompiledPolicy, PolicyDefinition, PolicyException } from './environment-policy.js';
export {
  artifactCompliant, evaluateArtifactTemplate, evaluatePolicy, evaluateTrail, latestByName, snapshotCompliant, worstState,
} from './compliance.js';
export type {
  ArtifactCompliance, AttestationStatus, ComplianceState, PolicyArtifactInput, PolicyDecision, ReasonCode, RecordedArtifact, RecordedAttestation,
  RuleEvaluation, RuleRef, RuleStatus, TrailCompliance, TrailRecord,
} from './compliance.js';
export { parseProvenanceDocument } from './provenance-document.js';
export type { ProvenanceDocument } from './provenance-document.js';
export { cacheEntrySigningBytes, verifyCacheEntrySignature } from './cache-entry-signature.js';
export type { SignatureVerdict } from './cache-entry-signature.js';
