/**
 * Lexical path handling for the context tracker: the trace shows the text a program passed,
 * not what the kernel found, so `.` and `..` are folded by text alone (symlinks are not
 * followed: nothing here touches a file system).
 */

/**
 * `/a/./b/../c//d/` → `/a/c/d`. Relative input stays relative (`a/../../b` → `../b`);
 * `..` above `/` stays at `/` as the kernel does. Returns the input itself when it is
 * already normal (the common case: no allocation).
 */
export function normalizePath(path: string): string {
  if (path.length === 0) return path;
  if (isNormal(path)) return path;
  const absolute = path.charCodeAt(0) === 47;
  const parts: string[] = [];
  let up = 0;
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length > 0) parts.pop();
      else if (!absolute) up++;
      continue;
    }
    parts.push(part);
  }
  const body = parts.join('/');
  if (absolute) return `/${body}`;
  const prefix = '../'.repeat(up);
  const joined = prefix + body;
  if (joined === '') return '.';
  return joined.endsWith('/') ? joined.slice(0, -1) : joined;
}

/** No `//`, no `.`/`..` component, no trailing `/` (except `/` itself). */
function isNormal(p: string): boolean {
  const n = p.length;
  if (n > 1 && p.charCodeAt(n - 1) === 47) return false;
  if (p.indexOf('//') !== -1) return false;
  // A `.` component starts the text or follows `/`.
  let i = p.charCodeAt(0) === 46 ? 0 : p.indexOf('/.');
  while (i !== -1) {
    const dot = p.charCodeAt(i) === 46 ? i : i + 1;
    const next = p.charCodeAt(dot + 1);
    if (Number.isNaN(next) || next === 47) return false; // `.`
    if (next === 46) {
      const after = p.charCodeAt(dot + 2);
      if (Number.isNaN(after) || after === 47) return false; // `..`
    }
    i = p.indexOf('/.', dot + 1);
  }
  return true;
}

/**
 * `path` resolved against `base` (a directory), normalised. An absolute `path` ignores the
 * base; a relative one with no known base is returned normalised but still relative, which
 * says honestly that the trace did not show where it was.
 */
export function resolvePath(base: string | undefined, path: string): string {
  if (path.charCodeAt(0) === 47 || base === undefined || base.length === 0) return normalizePath(path);
  if (base.charCodeAt(0) !== 47) return normalizePath(`${base}/${path}`);
  return normalizePath(base === '/' ? `/${path}` : `${base}/${path}`);
}

/** The last component (`/usr/bin/cat` → `cat`, `cat` → `cat`, `/` → `/`). */
export function baseName(path: string): string {
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === 47) end--;
  const slash = path.lastIndexOf('/', end - 1);
  return slash === -1 || end === 1 ? path.slice(0, end) : path.slice(slash + 1, end);
}

/** The directory part (`/usr/bin/cat` → `/usr/bin`, `cat` → undefined, `/x` → `/`). */
export function dirName(path: string): string | undefined {
  const slash = path.lastIndexOf('/');
  if (slash === -1) return undefined;
  return slash === 0 ? '/' : path.slice(0, slash);
}

/** The kernel keeps 15 bytes of a program's name in `comm` (TASK_COMM_LEN 16 with the NUL). */
export const COMM_LENGTH = 15;

/** `comm` as the kernel derives it at exec: the basename of the path passed, cut to 15. */
export function commOf(execPath: string): string {
  const name = baseName(execPath);
  return name.length > COMM_LENGTH ? name.slice(0, COMM_LENGTH) : name;
}
