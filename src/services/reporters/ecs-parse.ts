import { arnName, badDocument, isObject, mergeByFingerprint, type RunningArtifact } from './aws-common.js';
import { referenceName, sha256Fingerprint } from './container-state.js';

// The running containers of ECS tasks, from the JSON of `aws ecs describe-tasks` (or the same objects from
// the SDK's DescribeTasks). Pure: the live reporter (ecs.ts) and `--from-file` share it.
//
// As Kosli (`internal/aws`, GetEcsTasksData): only tasks whose lastStatus is RUNNING count; a container is
// fingerprinted by its `imageDigest`, or else by a digest pinned in its `image` reference, and named by its
// `image` as ECS reports it, tag kept and digest dropped — the names of an ECS environment in seed 002
// (`274425519734.dkr.ecr.eu-central-1.amazonaws.com/runner:16d9990`), named as the docker and k8s reporters
// name theirs (container-state.ts). Instances are the running containers per digest.

export interface EcsSkipped {
  task: string;
  container: string;
  image: string;
  reason: string;
}

export interface EcsCollected {
  artifacts: RunningArtifact[];
  /** Running containers that could not be fingerprinted (no image digest). */
  skipped: EcsSkipped[];
  /** How many RUNNING tasks were counted. */
  runningTasks: number;
}

/** Which tasks to count, by cluster name and service name (from the task's `group`, `service:NAME`). */
export interface EcsTaskFilter {
  cluster?: (name: string) => boolean;
  service?: (name: string) => boolean;
}

/** Adds up the running containers of task lists, page by page. */
export class EcsTaskCollector {
  private readonly found: RunningArtifact[] = [];
  private readonly skipped: EcsSkipped[] = [];
  private runningTasks = 0;

  constructor(
    private readonly source: string,
    private readonly filter: EcsTaskFilter = {},
  ) {}

  /** `tasks` is the `tasks` array of one DescribeTasks answer; `pointer` locates it in the source. */
  add(tasks: unknown, pointer: string): void {
    if (!Array.isArray(tasks)) throw badDocument(this.source, pointer, 'must be a list of tasks');
    tasks.forEach((task, i) => this.addTask(task, `${pointer}/${i}`));
  }

  private str(value: unknown, pointer: string, required: boolean): string | undefined {
    if (typeof value === 'string') return value;
    if (value === undefined && !required) return undefined;
    throw badDocument(this.source, pointer, value === undefined ? 'is missing (a string is required)' : 'must be a string');
  }

  private addTask(task: unknown, at: string): void {
    if (!isObject(task)) throw badDocument(this.source, at, 'must be a task object');
    const lastStatus = this.str(task.lastStatus, `${at}/lastStatus`, true);
    const taskArn = this.str(task.taskArn, `${at}/taskArn`, false) ?? at;
    const clusterArn = this.str(task.clusterArn, `${at}/clusterArn`, false);
    const group = this.str(task.group, `${at}/group`, false);
    if (lastStatus !== 'RUNNING') return;
    if (this.filter.cluster && !(clusterArn !== undefined && this.filter.cluster(arnName(clusterArn)))) return;
    if (this.filter.service && !(group?.startsWith('service:') && this.filter.service(group.slice('service:'.length)))) return;
    if (!Array.isArray(task.containers)) throw badDocument(this.source, `${at}/containers`, 'must be a list of containers');
    this.runningTasks++;
    task.containers.forEach((c, j) => this.addContainer(c, `${at}/containers/${j}`, taskArn));
  }

  private addContainer(container: unknown, at: string, taskArn: string): void {
    if (!isObject(container)) throw badDocument(this.source, at, 'must be a container object');
    const status = this.str(container.lastStatus, `${at}/lastStatus`, false);
    const containerName = this.str(container.name, `${at}/name`, false);
    const image = this.str(container.image, `${at}/image`, false);
    const digest = this.str(container.imageDigest, `${at}/imageDigest`, false);
    // A container that has exited (a finished init container, a crashed sidecar) is not running.
    if (status !== undefined && status !== 'RUNNING') return;
    // Some AWS-managed sidecars (GuardDuty's agent) carry no image name: Kosli names them by container.
    const name = image !== undefined ? referenceName(image) : containerName;
    if (name === undefined || name === '') throw badDocument(this.source, `${at}/image`, 'is missing (a container needs an image or a name)');
    const pinned = image?.includes('@') ? image.slice(image.indexOf('@') + 1) : undefined;
    const hex = sha256Fingerprint((digest ?? pinned ?? '').toLowerCase());
    if (hex === undefined) {
      const reason = digest === undefined ? 'no image digest reported (the image may still be pulling)' : `image digest ${JSON.stringify(digest)} is not sha256:<64 hex>`;
      this.skipped.push({ task: taskArn, container: containerName ?? '', image: image ?? '', reason });
      return;
    }
    this.found.push({ name, fingerprint: hex, instances: 1 });
  }

  result(): EcsCollected {
    return { artifacts: mergeByFingerprint(this.found), skipped: [...this.skipped], runningTasks: this.runningTasks };
  }
}

/**
 * The running containers in the output of `aws ecs describe-tasks`: `{"tasks": [...], "failures": [...]}`,
 * or a list of such documents (one per call, as a script that pages through tasks 100 at a time collects).
 */
export function parseEcsTasks(doc: unknown, source = 'input', filter: EcsTaskFilter = {}): EcsCollected {
  const collector = new EcsTaskCollector(source, filter);
  const addDocument = (d: unknown, at: string) => {
    if (!isObject(d) || !('tasks' in d)) throw badDocument(source, at, 'must be the output of aws ecs describe-tasks: {"tasks": [...], "failures": [...]}');
    collector.add(d.tasks, `${at}/tasks`);
  };
  if (Array.isArray(doc)) doc.forEach((d, i) => addDocument(d, `/${i}`));
  else addDocument(doc, '');
  return collector.result();
}
