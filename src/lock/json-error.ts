// Where JSON text first goes wrong. Node 20's JSON.parse often gives no position
// ("Unexpected token 'h', "hello" is not valid JSON"), and a lock error must name
// the line, so this small scanner walks the grammar and returns the offset of the
// first character that cannot continue a valid document.
//
// The same walk finds the first key repeated inside one object: JSON.parse keeps
// the last value silently, while a reviewer reading the diff sees the first, so
// the lock reader refuses duplicates (an `"integrity"` given twice).
export function jsonErrorOffset(text: string): number {
  return scanJson(text).errorAt;
}

/** The first key repeated within one object (its offset), or undefined. */
export function jsonDuplicateKey(text: string): { at: number; key: string } | undefined {
  return scanJson(text).duplicate;
}

function scanJson(text: string): { errorAt: number; duplicate?: { at: number; key: string } } {
  let duplicate: { at: number; key: string } | undefined;
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = (): void => {
    if (text[i] !== '"') fail();
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') fail();
    i += m![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 512) fail();
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      const seen = new Set<string>();
      for (;;) {
        ws();
        const start = i;
        string();
        const key = JSON.parse(text.slice(start, i)) as string;
        if (seen.has(key)) duplicate ??= { at: start, key };
        seen.add(key);
        ws();
        if (text[i] !== ':') fail();
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else fail();
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else number();
  };
  try {
    value(0);
    ws();
    return { errorAt: i < text.length ? i : -1, ...(duplicate ? { duplicate } : {}) };
  } catch (at) {
    return { errorAt: typeof at === 'number' ? at : text.length };
  }
}
