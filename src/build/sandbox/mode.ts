// From what the user asked for (--sandbox) and what the machine allows to the level
// builds run at. `require` is for CI and for anyone who relies on the isolation:
// anything weaker than full is an error there, never a silent downgrade.
import { IntactError } from '../../errors.js';
import type { SandboxLevel, SandboxMode } from '../types.js';
import type { SandboxProbe } from './probe.js';
import { BUILD_USER } from './build-user.js';

export function resolveMode(mode: SandboxMode, probe: SandboxProbe): SandboxLevel {
  if (mode === 'off') return 'none';
  if (mode === 'auto' || (probe.level === 'full' && !probe.unbounded)) return probe.level;
  if (probe.level === 'full') {
    throw new IntactError('SANDBOX_UNAVAILABLE', `--sandbox=require needs a build's processes bounded, but here ${probe.unbounded}`, {
      hint: `run intact as an ordinary user, or map uid and gid ${BUILD_USER.uid} into its user namespace (docs/builds.md, "Build limits"); --sandbox=auto builds without that bound`,
    });
  }
  const why = probe.reasons.length > 0 ? `: ${probe.reasons.join('; ')}` : '';
  throw new IntactError('SANDBOX_UNAVAILABLE', `--sandbox=require needs the full sandbox, but this machine allows only "${probe.level}"${why}`, {
    expected: 'full',
    found: probe.level,
    hint: 'run `intact doctor` for how to enable unprivileged user namespaces here, or use --sandbox=auto to build with less isolation',
  });
}
