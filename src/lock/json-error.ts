// Where JSON text first goes wrong. Node 20's JSON.parse often gives no position
// ("Unexpected token 'h', "hello" is not valid JSON"), and a lock error must name
// the line, so this small scanner walks the grammar and returns the offset of the
// first character that cannot continue a valid document.
//
// The first key repeated inside one object matters too: JSON.parse keeps the
// last value silently, while a reviewer reading the diff sees the first, so the
// lock reader refuses duplicates (an `"integrity"` given twice).
export function jsonErrorOffset(text: string): number {
  return scanJson(text).errorAt;
}

/**
 * The first key repeated within one object (its offset), or undefined; for text
 * JSON.parse accepted. Every read of the lock asks, so this is a lean pass over
 * character codes that only tracks objects and their keys (the grammar walk
 * below took ~10 ms on a 200-recipe lock, a tenth of `intact verify`).
 */
export function jsonDuplicateKey(text: string): { at: number; key: string } | undefined {
  const open: (Set<string> | undefined)[] = [];
  let keyNext = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === CH.quote) {
      let j = i + 1;
      let escaped = false;
      for (let d = text.charCodeAt(j); d !== CH.quote; d = text.charCodeAt(j)) {
        if (d === CH.backslash) {
          escaped = true;
          j++;
        }
        j++;
      }
      if (keyNext) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        const seen = open[open.length - 1]!;
        if (seen.has(key)) return { at: i, key };
        seen.add(key);
        keyNext = false;
      }
      i = j;
    } else if (c === CH.brace) {
      open.push(new Set());
      keyNext = true;
    } else if (c === CH.bracket) {
      open.push(undefined);
    } else if (c === CH.braceEnd || c === CH.bracketEnd) {
      open.pop();
      keyNext = false;
    } else if (c === CH.comma) {
      keyNext = open[open.length - 1] !== undefined;
    }
  }
  return undefined;
}

/** The character codes the duplicate-key pass looks at. */
const CH = { quote: 0x22, backslash: 0x5c, brace: 0x7b, braceEnd: 0x7d, bracket: 0x5b, bracketEnd: 0x5d, comma: 0x2c } as const;

function scanJson(text: string): { errorAt: number } {
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
      for (;;) {
        ws();
        string();
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
    return { errorAt: i < text.length ? i : -1 };
  } catch (at) {
    return { errorAt: typeof at === 'number' ? at : text.length };
  }
}
