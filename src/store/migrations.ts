import { sql, type ColumnDefinitionBuilder, type Migration, type MigrationProvider } from 'kysely';
import type { Engine } from './schema.js';
import { addAppendOnlyTriggers, addForwardOnlyTriggers } from './append-only.js';
import { blobsMigration } from './blob-migration.js';
import { policiesMigration } from './policies-sql.js';
import { cacheEntriesMigration, cacheEntriesPerSignerMigration } from './cache-entries.js';
import { flowDeploymentsMigration } from './flow-deployments.js';
import { createFlowTagEntries } from './flow-tag-entries.js';
import { createTagEntries } from './tag-entries.js';
import { createTypeArchives } from './type-archives.js';
import { logKeyMigration } from './log-key-record.js';
import { logMapMigration, logMapMovesMigration } from './log-map.js';
import { logCosignedMigration } from './log-cosigned.js';
import { pageIndexesMigration } from './page-indexes.js';
import { webSessionsMigration } from './web-sessions.js';

/**
 * Migrations live in code (not files) so the compiled package carries them. Column types differ between
 * the engines only where they must: 64-bit integers and byte strings.
 */
function types(engine: Engine) {
  return engine === 'sqlite'
    ? ({ big: 'integer', bytes: 'blob' } as const)
    : ({ big: 'bigint', bytes: 'bytea' } as const);
}


function records(engine: Engine): Migration {
  const t = types(engine);
  const id = (name: string) => [name, engine === 'sqlite' ? 'integer' : 'serial'] as const;
  const pk = engine === 'sqlite'
    ? (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement()
    : (c: ColumnDefinitionBuilder) => c.primaryKey();
  return {
    async up(db) {
      await db.schema
        .createTable('flows')
        .addColumn(...id('id'), pk)
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('template', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('archived_at', 'text')
        .addColumn('entry_index', t.big, (c) => c.notNull())
        .addUniqueConstraint('flows_org_name', ['org_id', 'name'])
        .execute();
      await db.schema
        .createTable('trails')
        .addColumn(...id('id'), pk)
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('flow_id', 'integer', (c) => c.notNull().references('flows.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('git_commit', 'text')
        .addColumn('commit_url', 'text')
        .addColumn('origin_url', 'text')
        .addColumn('user_data', 'text')
        .addColumn('template', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('entry_index', t.big, (c) => c.notNull())
        .addUniqueConstraint('trails_flow_name', ['flow_id', 'name'])
        .execute();
      await db.schema
        .createTable('artifacts')
        .addColumn(...id('id'), pk)
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('flow_id', 'integer', (c) => c.notNull().references('flows.id'))
        .addColumn('trail_id', 'integer', (c) => c.notNull().references('trails.id'))
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('git_commit', 'text')
        .addColumn('commit_url', 'text')
        .addColumn('build_url', 'text')
        .addColumn('annotations', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('entry_index', t.big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('artifacts_fp').on('artifacts').columns(['org_id', 'fingerprint']).execute();
      await db.schema.createIndex('artifacts_trail').on('artifacts').columns(['trail_id', 'id']).execute();
      await db.schema.createIndex('artifacts_commit').on('artifacts').columns(['org_id', 'git_commit']).execute();
      await db.schema
        .createTable('attestations')
        .addColumn(...id('id'), pk)
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('flow_id', 'integer', (c) => c.notNull().references('flows.id'))
        .addColumn('trail_id', 'integer', (c) => c.notNull().references('trails.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('artifact_fingerprint', 'text')
        .addColumn('artifact_name', 'text')
        .addColumn('git_commit', 'text')
        .addColumn('compliant', 'integer', (c) => c.notNull())
        .addColumn('summary', 'text')
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('user_data', 'text')
        .addColumn('annotations', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('entry_index', t.big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('attestations_trail').on('attestations').columns(['trail_id', 'id']).execute();
      await db.schema.createIndex('attestations_fp').on('attestations').columns(['org_id', 'artifact_fingerprint']).execute();
    },
  };
}

function expectations(engine: Engine): Migration {
  return {
    async up(db) {
      await db.schema
        .createTable('expectations')
        .addColumn('id', engine === 'sqlite' ? 'integer' : 'serial', (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('env_id', 'integer', (c) => c.notNull().references('environments.id'))
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('entry_index', types(engine).big, (c) => c.notNull())
        .addUniqueConstraint('expectations_env_number', ['env_id', 'number'])
        .execute();
      await db.schema.createIndex('expectations_fp').on('expectations').columns(['org_id', 'fingerprint']).execute();
    },
  };
}

function environments(engine: Engine): Migration {
  const t = types(engine);
  const id = engine === 'sqlite' ? 'integer' : 'serial';
  const pk = (c: ColumnDefinitionBuilder) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey());
  return {
    async up(db) {
      await db.schema
        .createTable('environments')
        .addColumn('id', id, pk)
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('included', 'text')
        .addColumn('include_scaling', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('archived_at', 'text')
        .addColumn('entry_index', t.big, (c) => c.notNull())
        .addUniqueConstraint('environments_org_name', ['org_id', 'name'])
        .execute();
      await db.schema
        .createTable('snapshots')
        .addColumn('id', id, pk)
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('env_id', 'integer', (c) => c.notNull().references('environments.id'))
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('entry_index', t.big, (c) => c.notNull())
        .addUniqueConstraint('snapshots_env_idx', ['env_id', 'idx'])
        .execute();
      await db.schema
        .createTable('snapshot_artifacts')
        .addColumn('snapshot_id', 'integer', (c) => c.notNull().references('snapshots.id'))
        .addColumn('org_id', 'integer', (c) => c.notNull())
        .addColumn('env_id', 'integer', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('instances', 'integer', (c) => c.notNull())
        .addColumn('since_idx', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('snapshot_artifacts_snap').on('snapshot_artifacts').columns(['snapshot_id']).execute();
      await db.schema.createIndex('snapshot_artifacts_fp').on('snapshot_artifacts').columns(['org_id', 'fingerprint', 'env_id', 'idx']).execute();
      // Snapshots are immutable (DESIGN.md §1).
      await addAppendOnlyTriggers(db, engine, ['snapshots', 'snapshot_artifacts']);
    },
  };
}

/** Flow tags live on the flow's row: a small map, always read with the flow, replaced as a whole when tagged. */
/** 0011: when an artifact's commit was made, the start of DORA lead time (docs/metrics.md). */
function artifactCommitTime(): Migration {
  return {
    async up(db) {
      await db.schema.alterTable('artifacts').addColumn('commit_time', 'text').execute();
    },
  };
}

/**
 * 0013: the rows where a run of an artifact began (`since_idx = idx`: not running in the snapshot before), by
 * environment and snapshot. DORA's deployments are exactly these rows; the partial index holds only them, so
 * reading an environment's deployments over a window does not scan every snapshot's running set.
 */
function deploymentStarts(): Migration {
  return {
    async up(db) {
      await db.schema.createIndex('snapshot_artifacts_starts').on('snapshot_artifacts').columns(['env_id', 'idx'])
        .where(sql<boolean>`since_idx = idx`).execute();
    },
  };
}

/**
 * 0014: every table that is a projection of the log refuses to change history, as log_entries does. Rows
 * written once (artifacts, attestations, attestation types, expectations) refuse UPDATE and DELETE;
 * rows that later entries move forward (flows: archived, tagged, described; trails: described, re-templated by
 * a repeated `begin trail`; environments: archived, described)
 * refuse DELETE, and UPDATE unless entry_index strictly increases (append-only.ts, docs/log.md "Projections").
 * snapshots, snapshot_artifacts, policies, policy_attachments and allowances have had theirs since 0006/0009.
 * An attacker who drops the triggers is still caught: decisions check the rows they use against their entries.
 */
function projectionGuards(engine: Engine): Migration {
  return {
    async up(db) {
      // (addAppendOnlyTriggers creates the function the forward-only TRUNCATE triggers use on PostgreSQL.)
      await addAppendOnlyTriggers(db, engine, ['artifacts', 'attestations', 'attestation_types', 'expectations']);
      await addForwardOnlyTriggers(db, engine, ['flows', 'trails', 'environments']);
      await createFlowTagEntries(db, engine);
    },
  };
}

function flowTags(): Migration {
  return {
    async up(db) {
      await db.schema.alterTable('flows').addColumn('tags', 'text').execute();
    },
  };
}

function attestationEvidence(): Migration {
  return {
    async up(db) {
      await db.schema.alterTable('attestations').addColumn('evidence', 'text').execute();
    },
  };
}

function attestationTypes(engine: Engine): Migration {
  const t = types(engine);
  return {
    async up(db) {
      await db.schema
        .createTable('attestation_types')
        .addColumn('id', engine === 'sqlite' ? 'integer' : 'serial', (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('schema', 'text', (c) => c.notNull())
        .addColumn('rules', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('entry_index', t.big, (c) => c.notNull())
        .addUniqueConstraint('attestation_types_version', ['org_id', 'name', 'version'])
        .execute();
    },
  };
}

function initial(engine: Engine): Migration {
  const t = types(engine);
  return {
    async up(db) {
      await db.schema
        .createTable('orgs')
        .addColumn('id', engine === 'sqlite' ? 'integer' : 'serial', (c) =>
          engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
        )
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createIndex('tokens_org').on('tokens').columns(['org_id', 'created_at', 'id']).execute();
      await db.schema
        .createTable('log_heads')
        .addColumn('org_id', 'integer', (c) => c.primaryKey().references('orgs.id'))
        .addColumn('size', t.big, (c) => c.notNull())
        .addColumn('root', t.bytes, (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('log_entries')
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('idx', t.big, (c) => c.notNull())
        .addColumn('leaf_hash', t.bytes, (c) => c.notNull())
        .addColumn('entry', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('log_entries_pk', ['org_id', 'idx'])
        .execute();
      await db.schema.createIndex('log_entries_leaf').on('log_entries').columns(['org_id', 'leaf_hash']).execute();
      await db.schema
        .createTable('log_hashes')
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('hidx', t.big, (c) => c.notNull())
        .addColumn('hash', t.bytes, (c) => c.notNull())
        .addPrimaryKeyConstraint('log_hashes_pk', ['org_id', 'hidx'])
        .execute();
      await addAppendOnlyTriggers(db, engine, ['log_entries', 'log_hashes']);
    },
  };
}

export function migrationProvider(engine: Engine): MigrationProvider {
  return {
    async getMigrations() {
      return { '0001_initial': initial(engine), '0002_records': records(engine), '0003_blobs': blobsMigration(engine), '0004_attestation_types': attestationTypes(engine), '0005_attestation_evidence': attestationEvidence(), '0006_environments': environments(engine), '0007_expectations': expectations(engine), '0008_flow_tags': flowTags(), '0009_policies': policiesMigration(engine), '0010_cache_entries': cacheEntriesMigration(engine),
        '0011_artifact_commit_time': artifactCommitTime(), '0013_deployment_starts': deploymentStarts(),
        '0014_projection_guards': projectionGuards(engine), '0015_cache_entries_per_signer': cacheEntriesPerSignerMigration(),
        '0016_hostile_log_key': logKeyMigration(), '0018_flow_deployments': flowDeploymentsMigration(),
        '0019_log_map': logMapMigration(engine), '0020_page_indexes': pageIndexesMigration(), '0021_tag_entries': { up: async (db) => {
          await createTagEntries(db, engine);
          await createTypeArchives(db, engine);
        } }, '0023_log_cosigned': logCosignedMigration(engine), '0025_web_sessions': webSessionsMigration(),
        // DORA's ledger re-attributes the artifacts reported since the log index it last read (issue #21).
        '0026_artifacts_entry': { up: async (db) => {
          await db.schema.createIndex('artifacts_entry').on('artifacts').columns(['org_id', 'entry_index']).execute();
        } }, '0028_log_map_moves': logMapMovesMigration(engine) };
    },
  };
}
