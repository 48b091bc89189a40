// Which certificates intact trusts for npm registries and their tarball hosts:
// npm's own `ca` (`ca[]`) and `cafile` settings, so a user behind a company TLS
// proxy configures it once, for npm and intact alike. As in npm, a configured set
// replaces the default one; Node then ignores NODE_EXTRA_CA_CERTS as well (its
// `ca` option replaces both), so that file's certificates belong in the cafile.
//
// Where intact departs from npm, it is stricter, never looser: a `cafile` that is
// missing, unreadable or holds no certificate is an error (npm silently ignores a
// missing one, so a typo would hide until the proxy refuses us); a relative
// `cafile` is refused (npm resolves it against whatever folder it runs in); and
// `strict-ssl=false` is not honoured: certificates are always verified, and only
// the hint after a refused certificate mentions the setting.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { IntactError } from '../errors.js';

export interface RegistryTls {
  /** PEM certificates that replace Node's trusted set; absent: the default set. */
  ca?: string[];
  /** Where `ca` came from, for messages: "cafile in /home/u/.npmrc". */
  caFrom?: string;
  /** Where `strict-ssl=false` is set: not honoured, only mentioned in hints. */
  strictSslOffIn?: string;
}

/** One setting as the npm configuration found it. */
export interface Setting {
  key: string;
  value: string;
  source: string;
}

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * The trusted set from whichever of `ca` and `cafile` the configuration chose
 * (`chosen`), and the `strict-ssl` setting. `~/` in a cafile is `home`, as in npm.
 */
export async function loadRegistryTls(chosen: Setting | undefined, strictSsl: Setting | undefined, home: string): Promise<RegistryTls> {
  const tls: RegistryTls = strictSsl?.value.trim() === 'false' ? { strictSslOffIn: strictSsl.source } : {};
  const value = chosen?.value.trim() ?? '';
  // npm's `null` (and an empty value) means the default set, even over a lower layer's.
  if (chosen === undefined || value === '' || value === 'null') return tls;
  const file = chosen.key === 'cafile' ? await readCaFile(chosen, value, home) : undefined;
  // npm documents `ca` with its newlines written as "\n"; a PEM never holds a backslash.
  const text = file?.text ?? value.replace(/\\n/g, '\n');
  const subject = file === undefined ? '' : `names ${file.path}, which `;
  const ca = text.match(PEM) ?? [];
  if (ca.length === 0) {
    throw invalid(
      chosen,
      `${subject}holds no PEM certificate`,
      'give certificates in PEM form (-----BEGIN CERTIFICATE----- …); convert a DER file with `openssl x509 -inform der -in ca.cer -out ca.pem`',
      file?.path,
    );
  }
  // Node silently skips a certificate it cannot parse, which would surface only
  // later as "certificate not trusted"; say which one is broken instead.
  for (const [i, pem] of ca.entries()) {
    try {
      new X509Certificate(pem);
    } catch (e) {
      const why = `${subject}holds a certificate (${i + 1} of ${ca.length}) that does not parse: ${(e as Error).message}`;
      throw invalid(chosen, why, 'replace it with an intact copy of the CA certificate', file?.path, e);
    }
  }
  return { ...tls, ca, caFrom: `${chosen.key} in ${chosen.source}` };
}

/** What to do when a server's certificate was refused. */
export function untrustedHint(tls: RegistryTls): string {
  const fix =
    tls.caFrom === undefined
      ? 'behind a company TLS proxy or a private CA, set cafile=/path/to/ca.pem (its CA certificates, PEM) in .npmrc, as for npm'
      : `the certificates from ${tls.caFrom} replace the default set (NODE_EXTRA_CA_CERTS too) and none of them signed this server's certificate: add its CA to them`;
  const strict =
    tls.strictSslOffIn === undefined
      ? ''
      : `; intact does not honour strict-ssl=false (set in ${tls.strictSslOffIn}) and always verifies, so configure cafile instead`;
  return `the server's certificate is not trusted: ${fix}${strict}`;
}

async function readCaFile(s: Setting, value: string, home: string): Promise<{ path: string; text: string }> {
  const path = value.startsWith('~/') ? join(home, value.slice(2)) : value;
  if (!isAbsolute(path)) {
    throw invalid(
      s,
      `is a relative path (${value})`,
      'npm resolves a relative cafile against whatever folder it runs in; write an absolute path, or one starting with ~/',
      value,
    );
  }
  try {
    return { path, text: await readFile(path, 'utf8') };
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(e as Error).message})`;
    throw invalid(
      s,
      `names ${path}, which ${why}`,
      'point cafile at the PEM file holding your CA certificates, or remove the line to trust the default CAs',
      path,
      e,
    );
  }
}

function invalid(s: Setting, what: string, hint: string, found?: string, cause?: unknown): IntactError {
  return new IntactError('NPM_CONFIG_INVALID', `npm setting ${s.key} in ${s.source} ${what}`, {
    hint,
    field: s.key,
    ...(isAbsolute(s.source) ? { file: s.source } : {}),
    ...(found !== undefined ? { found } : {}),
    ...(cause !== undefined ? { cause } : {}),
  });
}
