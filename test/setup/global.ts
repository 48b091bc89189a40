// vitest's global set-up: bring the fixture tools (test/setup/toolchain.ts) once
// per run and hand their paths to every test file through `inject('fixtures')`.
import type { TestProject } from 'vitest/node';
import { fixtureTools, type FixtureTools } from './toolchain.js';

declare module 'vitest' {
  export interface ProvidedContext {
    fixtures: FixtureTools;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  project.provide('fixtures', await fixtureTools());
}
