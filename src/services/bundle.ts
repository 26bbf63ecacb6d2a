import type { NoteSigner } from '../ledger/index.js';
import type { Store } from '../store/index.js';
import { AuthService } from './auth.js';
import { WebSessionService } from './web-sessions.js';
import type { Clock } from './clock.js';
import { LogService, type LogServiceOptions } from './log-service.js';
import { LogTiles } from './log-tiles.js';
import { WitnessSubmitter, type WitnessEndpoint, type WitnessSubmitterOptions } from './witness-submitter.js';
import { VaultService, type VaultOptions } from './vault.js';
import { CacheService } from './cache.js';
import { TurboCacheService } from './turbo-cache.js';
import { BazelCacheService } from './bazel-cache.js';
import { ParsePool, type ParsePoolOptions } from './parse-pool.js';
import { ReleasePlanService } from './records/release-plan.js';
import { DriftService } from './records/drift.js';
import { PolicyService } from './records/policies.js';
import { AllowanceService } from './records/allowances.js';
import { ComplianceService } from './records/compliance.js';
import { AssertService } from './records/assert.js';
import { DoraService } from './records/dora.js';
import {
  ArtifactService, AttestationService, AttestationTypeService, EnvironmentService, TagService, EvidenceAttestationService, FlowService, TrailService,
} from './records/index.js';

/** Every service over one store, wired once (for the server, the CLI's direct commands and tests). */
export interface ServiceBundle {
  store: Store;
  auth: AuthService;
  /** The web UI's cookie sessions, each standing for one API token. */
  webSessions: WebSessionService;
  log: LogService;
  tiles: LogTiles;
  /** Set when witnesses are configured: submits new checkpoints and serves the cosigned ones. */
  witnesses?: WitnessSubmitter;
  flows: FlowService;
  trails: TrailService;
  artifacts: ArtifactService;
  attestations: AttestationService;
  attestationTypes: AttestationTypeService;
  evidenceAttestations: EvidenceAttestationService;
  vault: VaultService;
  cache: CacheService;
  /** turbo's remote cache API (`/v8/artifacts`). */
  turbo: TurboCacheService;
  /** Bazel's HTTP remote cache (`/ac/`, `/cas/`). */
  bazel: BazelCacheService;
  environments: EnvironmentService;
  /** Tags of environments, controls and repositories (Kosli's `tag`; flows: FlowService.tag). */
  tags: TagService;
  releasePlans: ReleasePlanService;
  drift: DriftService;
  policies: PolicyService;
  allowances: AllowanceService;
  compliance: ComplianceService;
  asserts: AssertService;
  dora: DoraService;
  /** The worker threads that parse report files: closed with the server. */
  parser: ParsePool;
}

export function createServices(store: Store, signer: NoteSigner, options: LogServiceOptions & {
  clock?: Clock; evidence?: VaultOptions; parsing?: ParsePoolOptions; witnesses?: WitnessEndpoint[]; witnessing?: WitnessSubmitterOptions;
} = {}): ServiceBundle {
  const log = new LogService(store, signer, options);
  const witnesses = options.witnesses?.length ? new WitnessSubmitter(log, store, options.witnesses, options.witnessing) : undefined;
  if (witnesses) log.onCommit((org) => witnesses.notify(org));
  const parser = new ParsePool(options.parsing);
  const trails = new TrailService(store, log, parser);
  const vault = new VaultService(store, { clock: options.clock, ...options.evidence });
  const attestations = new AttestationService(store, log, trails, vault);
  const environments = new EnvironmentService(store, log, options.clock);
  const policies = new PolicyService(store, log, environments, parser);
  const allowances = new AllowanceService(store, log, environments);
  const compliance = new ComplianceService(store, policies, parser);
  compliance.facts.follow(log);
  const auth = new AuthService(store, options.clock);
  return {
    policies,
    allowances,
    compliance,
    asserts: new AssertService(
      store, environments, policies, compliance, allowances, signer, log, options.clock, witnesses && ((org, note) => witnesses.cosignedNote(org, note)),
    ),
    dora: new DoraService(store, environments, policies, compliance, options.clock),
    store,
    auth,
    webSessions: new WebSessionService(store, auth, options.clock),
    log,
    tiles: new LogTiles(store, log),
    witnesses,
    flows: new FlowService(store, log, parser, trails.states),
    trails,
    artifacts: new ArtifactService(store, log, trails),
    attestations,
    attestationTypes: new AttestationTypeService(store, log),
    evidenceAttestations: new EvidenceAttestationService(attestations, vault, parser),
    vault,
    cache: new CacheService(store, vault, { clock: options.clock }),
    turbo: new TurboCacheService(store, log, vault, { clock: options.clock }),
    bazel: new BazelCacheService(store, log, vault, { clock: options.clock }),
    environments,
    tags: new TagService(store, log),
    releasePlans: new ReleasePlanService(store, environments),
    drift: new DriftService(store, environments),
    parser,
  };
}
