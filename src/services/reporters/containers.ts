// The container reporters' public surface: `evident snapshot docker` and `evident snapshot k8s`.
export { collectDockerSnapshot } from './docker.js';
export type { DockerSnapshotOptions } from './docker.js';
export { collectK8sSnapshot, readPodListFile } from './k8s.js';
export type { K8sSourceOptions } from './k8s.js';
export { namespaceMatcher, parsePodListBytes, podListSnapshot } from './k8s-pods.js';
export type { K8sSnapshot, NamespaceFilter } from './k8s-pods.js';
export type { ContainerArtifact, ContainerSnapshot, SkippedContainer } from './container-state.js';
