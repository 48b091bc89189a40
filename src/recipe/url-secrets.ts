// Credentials in URLs. A URL from a recipe is written to intact.lock and shown in
// progress lines, NDJSON events and errors; a `user:password@` in it would be
// published with the repository or printed in a CI log. So it is refused
// wherever a URL is written (recipe rules, the lock reader) and blanked out of
// every line intact prints about a fetch (src/cli/progress.ts).

/** Whether `url` is an absolute URL with a user name or password in it. */
export function hasCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '';
  } catch {
    // Not a URL the WHATWG parser takes; still refuse an obvious `scheme://user@`.
    return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url);
  }
}

/** `text` with every `scheme://user:password@` made `scheme://***@`. */
export function redactUrls(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s@]*@/gi, '$1***@');
}
