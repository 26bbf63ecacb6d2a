import http from 'node:http';
import type { AddressInfo } from 'node:net';

// A local stand-in for the three AWS APIs the reporters call, speaking just enough of each wire protocol
// for the real AWS SDK v3 clients: ECS (awsJson1_1: POST / with X-Amz-Target), Lambda (REST-JSON:
// GET /2015-03-31/functions/) and S3 (REST-XML, path-style: ListObjectsV2 and GetObject). Pages are kept
// small so that the reporters' pagination is exercised. A request signed with the access key id DENIED is
// refused as AWS refuses a principal without the permission.

export interface FakeAwsState {
  /** ECS tasks per cluster name, in `aws ecs describe-tasks` shape. */
  ecs?: Record<string, Record<string, unknown>[]>;
  /** Lambda FunctionConfigurations, in `aws lambda list-functions` shape. */
  lambda?: Record<string, unknown>[];
  /** S3 objects per bucket. */
  s3?: Record<string, Record<string, Buffer | string>>;
  /** Items per page of every list call (default 2). */
  pageSize?: number;
}

export interface FakeAws {
  url: string;
  /** `ECS.ListTasks`, `Lambda.ListFunctions`, `S3.GetObject bucket/key`, ... in the order they came. */
  calls: string[];
  close(): Promise<void>;
}

const ECS_TARGET = 'AmazonEC2ContainerServiceV20141113.';
const ACCOUNT = 'arn:aws:ecs:eu-central-1:274425519734';

function accessKey(req: http.IncomingMessage): string | undefined {
  return /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function page<T>(items: T[], token: string | null | undefined, size: number): { items: T[]; next?: string } {
  const start = token ? Number(token) : 0;
  const end = start + size;
  return end < items.length ? { items: items.slice(start, end), next: String(end) } : { items: items.slice(start) };
}

function ecs(state: FakeAwsState, op: string, body: Record<string, unknown>, res: http.ServerResponse, calls: string[]) {
  const json = (status: number, value: unknown) => send(res, status, 'application/x-amz-json-1.1', JSON.stringify(value));
  const clusters = state.ecs ?? {};
  const size = state.pageSize ?? 2;
  const clusterOf = () => {
    const name = String(body.cluster ?? 'default').split('/').pop()!;
    return clusters[name];
  };
  calls.push(`ECS.${op}${body.cluster ? ` ${String(body.cluster)}` : ''}${body.serviceName ? ` ${String(body.serviceName)}` : ''}`);
  if (op === 'ListClusters') {
    const p = page(Object.keys(clusters).map((c) => `${ACCOUNT}:cluster/${c}`), body.nextToken as string, size);
    return json(200, { clusterArns: p.items, ...(p.next ? { nextToken: p.next } : {}) });
  }
  const tasks = clusterOf();
  if (!tasks) return json(400, { __type: 'ClusterNotFoundException', message: 'Cluster not found.' });
  if (op === 'ListTasks') {
    const selected = tasks.filter((t) => (!body.desiredStatus || t.desiredStatus === body.desiredStatus) && (!body.serviceName || t.group === `service:${String(body.serviceName)}`));
    const p = page(selected.map((t) => String(t.taskArn)), body.nextToken as string, Math.min(size, Number(body.maxResults ?? 100)));
    return json(200, { taskArns: p.items, ...(p.next ? { nextToken: p.next } : {}) });
  }
  if (op === 'DescribeTasks') {
    const wanted = body.tasks as string[];
    if (!Array.isArray(wanted) || wanted.length === 0 || wanted.length > 100) return json(400, { __type: 'InvalidParameterException', message: 'Tasks cannot be empty or more than 100.' });
    const found = tasks.filter((t) => wanted.includes(String(t.taskArn)));
    const failures = wanted.filter((arn) => !found.some((t) => t.taskArn === arn)).map((arn) => ({ arn, reason: 'MISSING' }));
    return json(200, { tasks: found, failures });
  }
  return json(400, { __type: 'UnknownOperationException', message: `fake ECS does not know ${op}` });
}

function lambda(state: FakeAwsState, url: URL, res: http.ServerResponse, calls: string[]) {
  calls.push('Lambda.ListFunctions');
  const size = Math.min(state.pageSize ?? 2, Number(url.searchParams.get('MaxItems') ?? 50));
  const p = page(state.lambda ?? [], url.searchParams.get('Marker'), size);
  send(res, 200, 'application/json', JSON.stringify({ Functions: p.items, ...(p.next ? { NextMarker: p.next } : {}) }));
}

function s3(state: FakeAwsState, req: http.IncomingMessage, url: URL, res: http.ServerResponse, calls: string[]) {
  const s3error = (status: number, code: string, message: string) =>
    send(res, status, 'application/xml', `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>`);
  const path = url.pathname.slice(1);
  const slash = path.indexOf('/');
  const bucket = decodeURIComponent(slash === -1 ? path : path.slice(0, slash));
  const objects = state.s3?.[bucket];
  if (!objects) return s3error(404, 'NoSuchBucket', 'The specified bucket does not exist');
  if (slash === -1 || slash === path.length - 1) {
    if (url.searchParams.get('list-type') !== '2') return s3error(400, 'InvalidArgument', 'fake S3 only lists with list-type=2');
    calls.push(`S3.ListObjectsV2 ${bucket} ${url.searchParams.get('prefix') ?? ''}`);
    const prefix = url.searchParams.get('prefix') ?? '';
    const keys = Object.keys(objects).filter((k) => k.startsWith(prefix)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const p = page(keys, url.searchParams.get('continuation-token'), Math.min(state.pageSize ?? 2, Number(url.searchParams.get('max-keys') ?? 1000)));
    const encode = url.searchParams.get('encoding-type') === 'url' ? encodeURIComponent : (s: string) => s;
    const contents = p.items.map((k) => `<Contents><Key>${xml(encode(k))}</Key><LastModified>2025-10-01T16:47:28.000Z</LastModified><ETag>&quot;3858f62230ac3c915f300c664312c11f&quot;</ETag><Size>${Buffer.byteLength(objects[k]!)}</Size><StorageClass>STANDARD</StorageClass></Contents>`);
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xml(bucket)}</Name><Prefix>${xml(encode(prefix))}</Prefix><KeyCount>${p.items.length}</KeyCount><MaxKeys>1000</MaxKeys>${url.searchParams.get('encoding-type') ? '<EncodingType>url</EncodingType>' : ''}<IsTruncated>${p.next ? 'true' : 'false'}</IsTruncated>${contents.join('')}${p.next ? `<NextContinuationToken>${p.next}</NextContinuationToken>` : ''}</ListBucketResult>`;
    return send(res, 200, 'application/xml', body);
  }
  const key = path.slice(slash + 1).split('/').map(decodeURIComponent).join('/');
  calls.push(`S3.GetObject ${bucket}/${key}`);
  const data = objects[key];
  if (data === undefined || req.method !== 'GET') return s3error(404, 'NoSuchKey', 'The specified key does not exist.');
  send(res, 200, 'application/octet-stream', Buffer.from(data), { etag: '"3858f62230ac3c915f300c664312c11f"' });
}

/** Starts the fake on a free local port. */
export async function startFakeAws(state: FakeAwsState): Promise<FakeAws> {
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const target = req.headers['x-amz-target'];
      const denied = accessKey(req) === 'DENIED';
      if (typeof target === 'string' && target.startsWith(ECS_TARGET)) {
        if (denied) return send(res, 400, 'application/x-amz-json-1.1', JSON.stringify({ __type: 'AccessDeniedException', message: 'User: arn:aws:iam::274425519734:user/ci is not authorized to perform: ecs:ListTasks' }));
        return ecs(state, target.slice(ECS_TARGET.length), JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'), res, calls);
      }
      if (url.pathname.startsWith('/2015-03-31/functions')) {
        if (denied) return send(res, 403, 'application/json', JSON.stringify({ Message: 'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: lambda:ListFunctions' }), { 'x-amzn-errortype': 'AccessDeniedException' });
        return lambda(state, url, res, calls);
      }
      if (denied) return send(res, 403, 'application/xml', '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
      return s3(state, req, url, res, calls);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The environment a spawned CLI needs to reach the fake: static credentials and a region. */
export function fakeAwsEnv(accessKeyId = 'AKIAIOSFODNN7EXAMPLE'): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', AWS_REGION: 'eu-central-1', AWS_EC2_METADATA_DISABLED: 'true' };
}
