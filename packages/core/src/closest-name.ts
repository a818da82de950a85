/**
 * "Did you mean …?" for option and config keys: the candidate nearest to a misspelt name,
 * by edit distance ignoring case, `_` and `-` (so `max_alerts` and `maxAlerts` are one
 * name), or undefined when none is close enough to be a typo.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const target = squash(name);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = editDistance(target, squash(candidate));
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  // A few edits, relative to the length: further than that it is another word, not a typo.
  return bestDistance <= Math.max(2, Math.floor(target.length / 3)) ? best : undefined;
}

function squash(s: string): string {
  return s.replace(/[_-]/g, '').toLowerCase();
}

function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Number.POSITIVE_INFINITY;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
