import { describe, expect, it } from 'vitest';
import { ndjson, runCli } from './helpers/cli.js';

// A shell that chdirs and forks a cat, which is denied /etc/shadow and reads a relative file.
const TRACE = [
  '700 execve("/bin/sh", ["sh", "-c", "cd /srv && cat /etc/shadow notes"], 0x7ffd /* 9 vars */) = 0',
  '700 chdir("/srv")                    = 0',
  '700 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 701',
  '701 execve("/usr/bin/cat", ["cat", "/etc/shadow", "notes"], 0x7ffd /* 9 vars */) = 0',
  '701 openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)',
  '701 openat(AT_FDCWD, "notes", O_RDONLY) = 3',
  '701 read(3, "hi\\n", 131072)          = 3',
  '701 +++ exited with 1 +++',
  '',
].join('\n');

describe('syscan parse: context', () => {
  it('attaches process, ancestry and resolved paths by default', async () => {
    const r = await runCli(['parse'], { input: TRACE });
    expect(r.code).toBe(0);
    const events = ndjson(r.stdout);
    const denied = events.find((e) => e.denied === true);
    expect(denied).toMatchObject({
      syscall: 'openat',
      paths: ['/etc/shadow'],
      process: {
        pid: 701,
        ppid: 700,
        exe: '/usr/bin/cat',
        comm: 'cat',
        argv: ['cat', '/etc/shadow', 'notes'],
        cwd: '/srv',
      },
    });
    expect(events.find((e) => e.syscall === 'read')).toMatchObject({ paths: ['/srv/notes'] });
  });

  it('prints the records as read with --no-context', async () => {
    const r = await runCli(['parse', '--no-context'], { input: TRACE });
    expect(r.code).toBe(0);
    const events = ndjson(r.stdout);
    expect(events).toHaveLength(7);
    expect(events.some((e) => 'process' in e || 'paths' in e)).toBe(false);
  });
});
