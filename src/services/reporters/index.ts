export * from './containers.js';
export * from './aws.js';
