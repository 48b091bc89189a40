// The one way intact makes an undici dispatcher: proxies from the environment
// we are given (never undici's own look at process.env), our connect timeout,
// and an optional CA set. Imported lazily, like undici itself (docs/measured.md §4).
import type { Dispatcher } from 'undici';

export interface AgentOptions {
  /** Where HTTP(S)_PROXY / NO_PROXY are read from. */
  env: NodeJS.ProcessEnv;
  connectTimeoutMs: number;
  /** Trusted CA certificates (PEM), replacing the default set. */
  ca?: string | Buffer | Array<string | Buffer>;
}

export async function makeAgent(o: AgentOptions): Promise<Dispatcher> {
  const { EnvHttpProxyAgent } = await import('undici');
  const { env } = o;
  const tls = o.ca === undefined ? {} : { connect: { ca: o.ca }, requestTls: { ca: o.ca } };
  return new EnvHttpProxyAgent({
    // Explicit values, even empty, so undici never falls back to process.env behind our back.
    httpProxy: env['http_proxy'] ?? env['HTTP_PROXY'] ?? '',
    httpsProxy: env['https_proxy'] ?? env['HTTPS_PROXY'] ?? '',
    noProxy: env['no_proxy'] ?? env['NO_PROXY'] ?? '',
    connectTimeout: o.connectTimeoutMs,
    ...tls,
  });
}
