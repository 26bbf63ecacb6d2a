import { arnName, awsClientConfig, awsError, compileNameFilter, type AwsOptions, type NameFilter } from './aws-common.js';
import { EcsTaskCollector, type EcsCollected } from './ecs-parse.js';

// `evident snapshot ecs`: the running containers of ECS tasks, through the AWS SDK v3.
// Calls (IAM actions): ListClusters (only when clusters are not named outright), ListTasks (desired status
// RUNNING, 100 a page) and DescribeTasks (100 tasks a call). Kosli's flags: --clusters / --clusters-regex /
// --exclude / --exclude-regex, --services / --services-regex / --exclude-services / --exclude-services-regex.
// Unlike Kosli, which lists services and then their tasks, Evident lists a cluster's tasks and reads each
// task's service from its `group` (`service:NAME`), so standalone tasks (scheduled jobs, `run-task`) are
// reported too when no service filter is given, and ecs:ListServices is not needed.

export interface EcsOptions extends AwsOptions {
  clusters?: NameFilter;
  services?: NameFilter;
  /** Told what is being read, for progress lines on stderr. */
  onProgress?: (message: string) => void;
}

export interface EcsReport extends EcsCollected {
  /** The clusters that were read. */
  clusters: string[];
}

const CLUSTER_FLAGS: [string, string, string, string] = ['--clusters', '--clusters-regex', '--exclude', '--exclude-regex'];
const SERVICE_FLAGS: [string, string, string, string] = ['--services', '--services-regex', '--exclude-services', '--exclude-services-regex'];

/** Collects the running containers of the selected clusters and services. */
export async function collectEcs(options: EcsOptions = {}): Promise<EcsReport> {
  const clusterFilter = compileNameFilter(options.clusters, CLUSTER_FLAGS);
  const serviceFilter = compileNameFilter(options.services, SERVICE_FLAGS);
  const config = awsClientConfig(options);
  // Loaded on first use: the SDK is large, and most evident commands never talk to AWS.
  const { ECSClient, DescribeTasksCommand, paginateListClusters, paginateListTasks } = await import('@aws-sdk/client-ecs');
  const client = new ECSClient(config);
  const progress = options.onProgress ?? (() => undefined);
  // Services named outright are asked for one by one; a regex or an exclusion is applied to each task.
  const collector = new EcsTaskCollector('ECS DescribeTasks', serviceFilter.active && !serviceFilter.onlyNames ? { service: (s) => serviceFilter.matches(s) } : {});
  try {
    let clusters: string[];
    if (clusterFilter.onlyNames) clusters = [...clusterFilter.onlyNames];
    else {
      clusters = [];
      try {
        for await (const page of paginateListClusters({ client }, {})) clusters.push(...(page.clusterArns ?? []).map(arnName));
      } catch (err) {
        throw awsError(err, 'ECS ListClusters');
      }
      clusters = clusters.filter((c) => clusterFilter.matches(c)).sort();
    }
    for (const cluster of clusters) {
      const taskArns: string[] = [];
      for (const serviceName of serviceFilter.onlyNames ?? [undefined]) {
        const what = `ECS ListTasks in cluster ${cluster}${serviceName ? ` for service ${serviceName}` : ''}`;
        try {
          const pages = paginateListTasks({ client, pageSize: 100 }, { cluster, desiredStatus: 'RUNNING', ...(serviceName ? { serviceName } : {}) });
          for await (const page of pages) taskArns.push(...(page.taskArns ?? []));
        } catch (err) {
          throw awsError(err, what);
        }
      }
      progress(`cluster ${cluster}: ${taskArns.length} task(s) with desired status RUNNING`);
      for (let i = 0; i < taskArns.length; i += 100) {
        let answer;
        try {
          answer = await client.send(new DescribeTasksCommand({ cluster, tasks: taskArns.slice(i, i + 100) }));
        } catch (err) {
          throw awsError(err, `ECS DescribeTasks in cluster ${cluster}`);
        }
        collector.add(answer.tasks ?? [], `/${cluster}/${i / 100}/tasks`);
      }
    }
    return { ...collector.result(), clusters };
  } finally {
    client.destroy();
  }
}
