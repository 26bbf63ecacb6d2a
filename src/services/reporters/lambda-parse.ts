import { badDocument, isObject, mergeByFingerprint, type RunningArtifact } from './aws-common.js';

// Lambda functions as running artifacts, from the JSON of `aws lambda list-functions` and/or
// `aws lambda get-function` (or the same objects from the SDK). Pure: shared by the live reporter
// (lambda.ts) and `--from-file`.
//
// Fingerprints follow Kosli (`internal/aws`, processOneLambdaFunc):
// - a Zip package: `CodeSha256` is the base64 of the SHA-256 of the .zip; decoded, it is the fingerprint, the
//   same value `evident fingerprint --artifact-type file function.zip` gives the uploaded zip;
// - an Image package: `CodeSha256` is the image's manifest digest in hex (the digest that
//   `Code.ResolvedImageUri` pins), taken as it is — the fingerprint `--artifact-type oci|docker` gives the
//   image. When a get-function document carries no CodeSha256, the digest of ResolvedImageUri is used.
// A function is one running instance once deployed; only the unqualified `$LATEST` version counts.

export interface LambdaSkipped {
  function: string;
  reason: string;
}

export interface LambdaCollected {
  artifacts: RunningArtifact[];
  skipped: LambdaSkipped[];
  /** The names of the functions counted. */
  functions: string[];
}

const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const PINNED = /@sha256:([0-9a-fA-F]{64})$/;

/** The hex of a base64 SHA-256 (`CodeSha256` of a Zip package), or undefined if it is not one. */
export function decodeCodeSha256(base64: string): string | undefined {
  return BASE64_SHA256.test(base64) ? Buffer.from(base64, 'base64').toString('hex') : undefined;
}

/** Adds up function configurations, document by document. */
export class LambdaCollector {
  private readonly byName = new Map<string, { fingerprint: string; at: string }>();
  private readonly skipped: LambdaSkipped[] = [];

  constructor(
    private readonly source: string,
    private readonly include: (name: string) => boolean = () => true,
  ) {}

  /** One FunctionConfiguration, and the `Code` of its get-function document when there is one. */
  add(config: unknown, at: string, code?: unknown, codeAt = ''): void {
    if (!isObject(config)) throw badDocument(this.source, at, 'must be a function configuration object');
    const name = config.FunctionName;
    if (typeof name !== 'string' || name === '') throw badDocument(this.source, `${at}/FunctionName`, 'must be a function name');
    if (!this.include(name)) return;
    const version = config.Version;
    if (version !== undefined && typeof version !== 'string') throw badDocument(this.source, `${at}/Version`, 'must be a string');
    if (version !== undefined && version !== '$LATEST') {
      this.skipped.push({ function: `${name}:${version}`, reason: 'only $LATEST is reported' });
      return;
    }
    const fingerprint = this.fingerprint(config, at, code, codeAt);
    const earlier = this.byName.get(name);
    if (earlier && earlier.fingerprint !== fingerprint) {
      throw badDocument(this.source, at, `describes function ${name} with other code than ${earlier.at} does`);
    }
    if (!earlier) this.byName.set(name, { fingerprint, at });
  }

  private fingerprint(config: Record<string, unknown>, at: string, code: unknown, codeAt: string): string {
    const packageType = config.PackageType ?? 'Zip'; // older functions were listed without one: all were zips
    const sha = config.CodeSha256;
    if (sha !== undefined && typeof sha !== 'string') throw badDocument(this.source, `${at}/CodeSha256`, 'must be a string');
    if (packageType === 'Zip') {
      const hex = sha === undefined ? undefined : decodeCodeSha256(sha);
      if (hex === undefined) throw badDocument(this.source, `${at}/CodeSha256`, sha === undefined ? 'is missing' : 'must be the base64 of a SHA-256 (44 characters)');
      return hex;
    }
    if (packageType === 'Image') {
      if (sha !== undefined && HEX_SHA256.test(sha)) return sha.toLowerCase();
      const resolved = isObject(code) ? code.ResolvedImageUri : undefined;
      const pinned = typeof resolved === 'string' ? PINNED.exec(resolved)?.[1] : undefined;
      if (pinned !== undefined) return pinned.toLowerCase();
      if (sha !== undefined) throw badDocument(this.source, `${at}/CodeSha256`, 'must be the 64-hex image digest of an Image package');
      throw badDocument(this.source, isObject(code) ? `${codeAt}/ResolvedImageUri` : `${at}/CodeSha256`, 'is missing: an Image package needs CodeSha256 or Code.ResolvedImageUri');
    }
    throw badDocument(this.source, `${at}/PackageType`, 'must be "Zip" or "Image"');
  }

  result(): LambdaCollected {
    const found = [...this.byName].map(([name, f]) => ({ name, fingerprint: f.fingerprint, instances: 1 }));
    return { artifacts: mergeByFingerprint(found), skipped: [...this.skipped], functions: [...this.byName.keys()].sort() };
  }
}

/**
 * The functions in `aws lambda list-functions` output (`{"Functions": [...]}`), `aws lambda get-function`
 * output (`{"Configuration": {...}, "Code": {...}}`), `get-function-configuration` output (a bare
 * configuration), or a list of any of these.
 */
export function parseLambdaFunctions(doc: unknown, source = 'input', include?: (name: string) => boolean): LambdaCollected {
  const collector = new LambdaCollector(source, include);
  const addDocument = (d: unknown, at: string) => {
    if (isObject(d) && 'Functions' in d) {
      if (!Array.isArray(d.Functions)) throw badDocument(source, `${at}/Functions`, 'must be a list of functions');
      d.Functions.forEach((f, i) => collector.add(f, `${at}/Functions/${i}`));
    } else if (isObject(d) && 'Configuration' in d) collector.add(d.Configuration, `${at}/Configuration`, d.Code, `${at}/Code`);
    else if (isObject(d) && 'FunctionName' in d) collector.add(d, at);
    else throw badDocument(source, at, 'must be the output of aws lambda list-functions ({"Functions": [...]}) or get-function ({"Configuration": {...}, "Code": {...}})');
  };
  if (Array.isArray(doc)) doc.forEach((d, i) => addDocument(d, `/${i}`));
  else addDocument(doc, '');
  return collector.result();
}
