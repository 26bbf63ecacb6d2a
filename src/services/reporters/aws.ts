// The AWS reporters (`evident snapshot ecs|lambda|s3`): collectors that talk to AWS through the SDK v3, and
// the pure parsers of the AWS CLI's JSON that `--from-file` uses.

export { awsError, compileNameFilter, mergeByFingerprint } from './aws-common.js';
export type { AwsOptions, CompiledNameFilter, NameFilter, RunningArtifact } from './aws-common.js';
export { EcsTaskCollector, parseEcsTasks } from './ecs-parse.js';
export type { EcsCollected, EcsSkipped, EcsTaskFilter } from './ecs-parse.js';
export { collectEcs } from './ecs.js';
export type { EcsOptions, EcsReport } from './ecs.js';
export { LambdaCollector, decodeCodeSha256, parseLambdaFunctions } from './lambda-parse.js';
export type { LambdaCollected, LambdaSkipped } from './lambda-parse.js';
export { LAMBDA_FILTER_FLAGS, collectLambda } from './lambda.js';
export type { LambdaOptions, LambdaReport } from './lambda.js';
export { compileKeyFilter, selectS3Objects, treePath } from './s3-keys.js';
export type { ListedObject, S3KeyFilter, S3Selection, SelectedObject } from './s3-keys.js';
export { collectS3 } from './s3.js';
export type { S3Options, S3Progress, S3Report } from './s3.js';
