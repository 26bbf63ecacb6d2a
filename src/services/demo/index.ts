export { seedDemo, DEMO_ORG } from './seed.js';
export type { DemoSeedOptions, DemoSeedResult } from './seed.js';
export { DEMO_FLOWS, RELEASE_FLOW, demoVersions } from './catalogue.js';
export type { DemoFlow, DemoVersion } from './catalogue.js';
export { PROD_POLICY, ALLOWANCE_REASON } from './scenes.js';
