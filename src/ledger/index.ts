// The tamper-evident log (DESIGN.md §2): RFC 9162 §2.1 Merkle trees over the stored-hash layout of
// golang.org/x/mod/sumdb/tlog, proof verification, and C2SP signed notes and checkpoints. Pure: no I/O.
export { HASH_SIZE, EMPTY_ROOT, leafHash, leafHashOfText, nodeHash } from './hash.js';
export type { Hash } from './hash.js';
export {
  storedHashIndex, splitStoredHashIndex, storedHashCount, frontierIndexes, appendLeaves, rootFromFrontier,
  TreeBuilder, rootOfLeaves,
} from './stored.js';
export type { AppendResult } from './stored.js';
export {
  treeRootPlan, treeRoot, inclusionProofPlan, inclusionProof, consistencyProofPlan, consistencyProof,
} from './proof.js';
export { verifyInclusion, rootFromInclusionProof, verifyConsistency, prefixRootFromConsistencyProof } from './verify.js';
export { verifySubtreeInclusion, verifySubtreeConsistency } from './subtree.js';
export {
  generateSignerKey, parseSignerKey, parseVerifierKey, verifierFromPublicKey, keyIdFor, renamedSigner, renamedVerifier, verifierKeyPem, publicKeyPem,
} from './keys.js';
export type { NoteSigner, NoteVerifier } from './keys.js';
export { signNote, openNote, splitNote } from './note.js';
export type { OpenedNote, SignatureLine } from './note.js';
export { formatCheckpoint, parseCheckpoint, openCheckpoint } from './checkpoint.js';
export type { Checkpoint } from './checkpoint.js';
export {
  TILE_HEIGHT, TILE_WIDTH, MAX_BUNDLED_ENTRY_BYTES, tilePath, encodeTileIndex, parseTilePath, tileWidthAt, tileHashIndexes,
  encodeEntryBundle, decodeEntryBundle,
} from './tiles.js';
export type { TileRef } from './tiles.js';
export {
  MAP_EMPTY, MAP_DEPTH, MAP_EXTENSION, mapKey, mapLeafHash, mapNodeHash, keyBit, verifyMapProof, mapProofToJson, mapProofFromJson,
  mapExtension, mapRootOf,
} from './map-hash.js';
export type { MapProof, MapProofJson } from './map-hash.js';
export { updateMap, lookupMap, proveMap, mapLeaves, hashOf as mapHashOf } from './map-tree.js';
export { MapLeafTable } from './map-table.js';
export { MapForest } from './map-flat.js';
export type { MapNode, MapUpdate } from './map-tree.js';
export { SUBJECT_KINDS, subjectKey, subjectsOf, linksOf, parseSubjectKey } from './subjects.js';
export type { Subject, SubjectKind, PrevLinks } from './subjects.js';
export {
  ALG_COSIGNATURE_V1, cosignedMessage, generateCosignerKey, parseCosignerKey, parseCosignatureVerifierKey, checkCosignatures, validCosignatureLines,
} from './cosignature.js';
export type { Cosigner, CosignatureVerifier, CosignatureResult } from './cosignature.js';
export { makeWitnessPolicy, witnessPolicyJson, describeWitnessPolicy, checkWitnessPolicy } from './witness-policy.js';
export type { WitnessPolicy, WitnessPolicyJson, WitnessPolicyVerdict } from './witness-policy.js';
export { MAX_PROOF_LINES, formatAddCheckpoint, parseAddCheckpoint, formatConflictSize, parseConflictSize } from './witness-protocol.js';
export type { AddCheckpointRequest } from './witness-protocol.js';
export { leafCheckPlan, checkLeaves } from './leaf-check.js';
export type { KnownNodes, TreeNode, LeafCheckResult } from './leaf-check.js';
