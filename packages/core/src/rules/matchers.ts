/**
 * The string operators of Falco's language as plain predicates, built once per comparison.
 */

/** `glob`/`iglob`: `*` (any run, `/` included, as fnmatch without FNM_PATHNAME), `?`, `[…]`. */
export function globToRegExp(pattern: string, ignoreCase: boolean): RegExp {
  let out = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else out += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`${out}$`, ignoreCase ? 'si' : 's');
}

/** `pmatch`: the path is one of the prefixes or below one of them (whole path components). */
export function pathPrefixMatcher(prefixes: readonly string[]): (path: string) => boolean {
  const roots = prefixes.map((p) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p));
  if (roots.includes('/')) return (path) => path.startsWith('/');
  return (path) => {
    for (const root of roots) {
      if (path === root || (path.startsWith(root) && path.charCodeAt(root.length) === 47)) return true;
    }
    return false;
  };
}

/** A predicate on one string for a string operator and its (already coerced) operand. */
export function stringMatcher(op: string, operand: string): (value: string) => boolean {
  switch (op) {
    case '=':
      return (v) => v === operand;
    case '!=':
      return (v) => v !== operand;
    case 'contains':
      return (v) => v.includes(operand);
    case 'icontains': {
      const lower = operand.toLowerCase();
      return (v) => v.toLowerCase().includes(lower);
    }
    case 'startswith':
      return (v) => v.startsWith(operand);
    case 'endswith':
      return (v) => v.endsWith(operand);
    case 'glob':
    case 'iglob': {
      const re = globToRegExp(operand, op === 'iglob');
      return (v) => re.test(v);
    }
    case 'regex': {
      const re = new RegExp(operand);
      return (v) => re.test(v);
    }
    default:
      throw new Error(`no string matcher for '${op}'`);
  }
}
