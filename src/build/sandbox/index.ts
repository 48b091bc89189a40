// The build sandbox, the only door to src/build/sandbox. How a step is isolated,
// and why with util-linux `unshare` and a setup script: see setup-script.ts and
// docs/builds.md ("Sandbox").
export { probeSandbox, type SandboxProbe } from './probe.js';
export { runStep } from './run-step.js';
export { explainSandbox } from './explain.js';
export { resolveMode } from './mode.js';
export { INSIDE_USER } from './skeleton.js';
