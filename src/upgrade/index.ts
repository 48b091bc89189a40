// Public door of the upgrade tools: adding recipes, finding newer versions,
// upgrading one recipe as a reviewable edit, comparing revisions for a merge
// request, the CI review check, and SBOMs of the locked set.
export { add, type AddOptions, type AddResult } from './add.js';
export { parseAddSpec, type AddSpec } from './add-spec.js';
export { outdated, filterNewer, trackerOf, type OutdatedOptions, type OutdatedReport, type OutdatedRow, type Release, type Tracker } from './outdated.js';
export { upgrade, type UpgradeOptions, type UpgradeResult, type BuildInfo } from './upgrade.js';
export { upgradeSummary } from './summary.js';
export { compareWithBase, type CompareOptions, type Comparison } from './compare.js';
export { diffSnapshots, type DiffReport, type RecipeDiff, type RecipeStatus } from './diff.js';
export { renderMarkdown } from './diff-markdown.js';
export { review, type ReviewOptions, type ReviewReport } from './review.js';
export { makeSbom, type Sbom, type SbomFormat, type SbomOptions } from './sbom.js';
export { checkLicense } from './license.js';
export { compareVersions, isPrerelease, versionFromTag } from './versions.js';
export type { LockDeps } from './lock-staged.js';
