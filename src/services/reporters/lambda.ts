import { awsClientConfig, awsError, compileNameFilter, type AwsOptions, type NameFilter } from './aws-common.js';
import { LambdaCollector, type LambdaCollected } from './lambda-parse.js';

// `evident snapshot lambda`: the $LATEST code of Lambda functions, through the AWS SDK v3.
// One IAM action: lambda:ListFunctions (50 a page). Its FunctionConfiguration carries CodeSha256 and
// PackageType for Zip and Image packages alike, so no GetFunction call is needed (Kosli calls
// GetFunctionConfiguration per function for the same two fields). Kosli's flags: --function-names,
// --function-names-regex, --exclude, --exclude-regex.

export interface LambdaOptions extends AwsOptions {
  functions?: NameFilter;
}

export interface LambdaReport extends LambdaCollected {
  /** Functions named with --function-names that the account does not have. */
  missing: string[];
}

export const LAMBDA_FILTER_FLAGS: [string, string, string, string] = ['--function-names', '--function-names-regex', '--exclude', '--exclude-regex'];

/** Collects the functions that the filter selects. */
export async function collectLambda(options: LambdaOptions = {}): Promise<LambdaReport> {
  const filter = compileNameFilter(options.functions, LAMBDA_FILTER_FLAGS);
  const config = awsClientConfig(options);
  // Loaded on first use: the SDK is large, and most evident commands never talk to AWS.
  const { LambdaClient, paginateListFunctions } = await import('@aws-sdk/client-lambda');
  const client = new LambdaClient(config);
  const collector = new LambdaCollector('Lambda ListFunctions', (name) => filter.matches(name));
  try {
    let page = 0;
    for await (const answer of paginateListFunctions({ client, pageSize: 50 }, {})) {
      (answer.Functions ?? []).forEach((f, i) => collector.add(f, `/${page}/Functions/${i}`));
      page++;
    }
  } catch (err) {
    throw awsError(err, 'Lambda ListFunctions');
  } finally {
    client.destroy();
  }
  const result = collector.result();
  const found = new Set(result.functions);
  return { ...result, missing: (filter.onlyNames ?? []).filter((n) => !found.has(n)) };
}
