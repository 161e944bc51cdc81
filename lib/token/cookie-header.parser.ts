/** What a `Cookie` header holds under one cookie name. */
export type CookieLookup =
  | { readonly kind: 'absent' }
  /** The raw value: not unquoted, not percent-decoded. */
  | { readonly kind: 'value'; readonly value: string }
  /** The name appears more than once: which one the browser meant is unknowable. */
  | { readonly kind: 'duplicate' };

const ABSENT: CookieLookup = { kind: 'absent' };
const DUPLICATE: CookieLookup = { kind: 'duplicate' };
const SPACE = 0x20;
const TAB = 0x09;

/** `value.slice(start, end)` without leading and trailing spaces and tabs. */
function trimmed(value: string, start: number, end: number): string {
  while (start < end && (value.charCodeAt(start) === SPACE || value.charCodeAt(start) === TAB)) {
    start++;
  }
  while (
    end > start &&
    (value.charCodeAt(end - 1) === SPACE || value.charCodeAt(end - 1) === TAB)
  ) {
    end--;
  }
  return value.slice(start, end);
}

/**
 * Finds the cookie `name` (compared exactly, as cookie names are case-sensitive) in a `Cookie`
 * header, in one linear pass over `name=value` pairs separated by `;`. A name sent twice is a
 * `duplicate`, never "the first wins" (a sibling subdomain can set a second cookie of the same
 * name, and browsers give no way to tell the two apart). Pairs without `=` are skipped. Several
 * header values (HTTP/2 may split them) are read as one list.
 * @see RFC 6265 §4.2.1, §5.4
 */
export function findCookie(
  header: string | readonly string[] | undefined,
  name: string,
): CookieLookup {
  if (header === undefined) return ABSENT;
  const list = typeof header === 'string' ? header : header.join(';');
  let found: string | undefined;
  let start = 0;
  while (start < list.length) {
    let end = list.indexOf(';', start);
    if (end === -1) end = list.length;
    // Looked for within the pair only, so that the pass stays linear.
    const equals = list.slice(start, end).indexOf('=');
    if (equals !== -1 && trimmed(list, start, start + equals) === name) {
      if (found !== undefined) return DUPLICATE;
      found = trimmed(list, start + equals + 1, end);
    }
    start = end + 1;
  }
  return found === undefined ? ABSENT : { kind: 'value', value: found };
}
