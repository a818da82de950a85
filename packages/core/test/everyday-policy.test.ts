import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSession, EVERYDAY_POLICY } from '../src/index.js';
import { corpusDir, corpusSkipReason, hasCorpus } from './helpers/corpus.js';

/** Traces of ordinary commands doing ordinary work (the corpus's MANIFEST says how each was made). */
const EVERYDAY = [
  'ls-plain.log',
  'ls-v.log',
  'cat-y.log',
  'cat-tt-T.log',
  'git-status-f-tt.log',
  'git-status-yy.log',
  'python-f.log',
  'node-f-tt.log',
  'sh-pipeline-f.log',
  'make-like-vfork.log',
  'curl-loopback-yy.log',
];

describe.skipIf(!hasCorpus)('the everyday policy', () => {
  it.each(EVERYDAY)('finds nothing in an everyday trace: %s', (name) => {
    const session = createSession({ config: EVERYDAY_POLICY });
    session.beginInput(name);
    session.write(readFileSync(join(corpusDir, 'strace', name)));
    session.end();
    const s = session.summary();
    expect(s.events).toBeGreaterThan(0);
    const said = s.groups.map((g) => `${g.severity} ${g.message}`);
    // curl's trace keeps only network and I/O calls (-e trace=%network,…): that it leaves
    // calls out is the one thing to say about it.
    if (name === 'curl-loopback-yy.log')
      expect(said).toEqual([expect.stringMatching(/^critical .*-e trace=/)]);
    else expect(said).toEqual([]);
  });

  it('still alerts what no ordinary program does', () => {
    const session = createSession({ config: EVERYDAY_POLICY });
    expect(session.analyze('ptrace(PTRACE_ATTACH, 1, NULL, NULL) = 0\n').kind).toBe('alert');
    expect(session.refusedAtEntry('high')).toContain('ptrace');
  });
});

if (!hasCorpus) it.skip(corpusSkipReason, () => {});
