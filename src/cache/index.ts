// Public door of the binary cache: signed store entries on any OCI Distribution
// registry (push, pull, substitution in install), the keys that sign them and
// the project configuration that says whom to trust. docs/cache.md describes
// the whole picture.
export { CONFIG_FILE, loadCacheConfig, parseCacheConfig, type CacheConfig } from './config.js';
export { parseRef, renderRef, type RegistryRef } from './ref.js';
export { generateKeyPair, parsePublicKey, parseSecretKey, type PublicKey, type SecretKey } from './keys.js';
export { findSecretKey, keysDir, readSecretKeyFile, writeKeyPair } from './key-files.js';
export { credentialLookup, type CredentialLookup, type Credentials } from './oci/credentials.js';
export { RegistryClient, DEFAULT_CLIENT_LIMITS, type ClientLimits } from './oci/client.js';
export { pushEntries, requireBuilt, type PushReport, type PushTarget } from './push.js';
export { pullEntries, type PullReport } from './pull.js';
export { makeSubstituter, Substituter, type Outcome, type PlanLike, type SubstituterOptions } from './substitute.js';
export type { EntryChecks } from './entry-checks.js';
