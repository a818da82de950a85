import { describe, expect, it } from 'vitest';
import { commOf, normalizePath, resolvePath } from '../src/context/paths.js';
import { decodeAuditSockaddr, formatIpv6, parseSocketDecoration } from '../src/context/sockaddr.js';
import { createContextTracker, type SpawnInfo } from '../src/context/tracker.js';
import { parseRecords } from '../src/parse/index.js';
import type { ParsedRecord, SyscallEvent } from '../src/types.js';

/** Parses `text` and runs every record through a fresh tracker. */
function track(text: string, options: Parameters<typeof createContextTracker>[0] = {}) {
  const tracker = createContextTracker(options);
  const records: ParsedRecord[] = parseRecords(text).map((r) => tracker.observe(r));
  const calls = records.filter((r): r is SyscallEvent => r.kind === 'syscall');
  const call = (name: string, nth = 0): SyscallEvent => {
    const found = calls.filter((c) => c.syscall === name)[nth];
    if (found === undefined) throw new Error(`no ${name} #${nth}`);
    return found;
  };
  return { tracker, records, calls, call };
}

describe('paths', () => {
  it('normalises . and .. lexically, keeping relative paths relative', () => {
    expect(normalizePath('/a/./b/../c//d/')).toBe('/a/c/d');
    expect(normalizePath('/../../etc/shadow')).toBe('/etc/shadow');
    expect(normalizePath('a/../../b')).toBe('../b');
    expect(normalizePath('./')).toBe('.');
    expect(normalizePath('/usr/bin/cat')).toBe('/usr/bin/cat');
    expect(normalizePath('/.hidden/x')).toBe('/.hidden/x');
    expect(resolvePath('/home/x', '../y/./z')).toBe('/home/y/z');
    expect(resolvePath('/', 'etc')).toBe('/etc');
    expect(resolvePath(undefined, 'rel/file')).toBe('rel/file');
  });

  it('names comm as the kernel does: basename, 15 characters', () => {
    expect(commOf('/usr/bin/cat')).toBe('cat');
    expect(commOf('/opt/a-very-long-program-name')).toBe('a-very-long-pro');
  });
});

describe('strace: process tree, exec, cwd, ids', () => {
  it('gives the child of a fork its parent, inherited program and cwd, then its own exec', () => {
    const { call, tracker } = track(
      [
        '100 execve("/bin/sh", ["sh", "-c", "cd /tmp && cat x"], 0x7ffd /* 12 vars */) = 0',
        '100 chdir("/tmp")                   = 0',
        '100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101',
        '101 openat(AT_FDCWD, "sub/../x", O_RDONLY) = 3',
        '101 execve("/usr/bin/cat", ["cat", "/etc/shadow"], 0x7ffd0 /* 12 vars */) = 0',
        '101 openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)',
        '101 +++ exited with 1 +++',
      ].join('\n'),
    );
    const early = call('openat', 0);
    expect(early.paths).toEqual(['/tmp/x']);
    expect(early.process).toMatchObject({ pid: 101, ppid: 100, exe: '/bin/sh', comm: 'sh', cwd: '/tmp' });
    const denied = call('openat', 1);
    expect(denied.denied).toBe(true);
    expect(denied.paths).toEqual(['/etc/shadow']);
    expect(denied.process).toMatchObject({ pid: 101, ppid: 100, exe: '/usr/bin/cat', comm: 'cat' });
    expect(denied.process?.argv).toEqual(['cat', '/etc/shadow']);
    // Exited, but kept for late lines; the ancestors walk up to the shell.
    expect(tracker.process(101)?.exe).toBe('/usr/bin/cat');
    expect(tracker.ancestors(101).map((p) => p.comm)).toEqual(['sh']);
  });

  it("adopts a child whose first calls come before the parent's clone returns (-f ordering)", () => {
    const { call } = track(
      [
        '200 execve("/usr/bin/make", ["make"], 0x1 /* 3 vars */) = 0',
        '200 chdir("/src")                  = 0',
        '200 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>',
        '201 getpid()                       = 201',
        '200 <... clone resumed>, child_tidptr=0x7f) = 201',
        '201 openat(AT_FDCWD, "Makefile", O_RDONLY) = 3',
      ].join('\n'),
    );
    // Even its calls before the clone returned: the one pending clone's child (a spawn hint).
    expect(call('getpid').process).toMatchObject({ pid: 201, ppid: 200, exe: '/usr/bin/make', cwd: '/src' });
    const open = call('openat');
    expect(open.process).toMatchObject({ pid: 201, ppid: 200, exe: '/usr/bin/make', cwd: '/src' });
    expect(open.paths).toEqual(['/src/Makefile']);
  });

  it("keeps a quick child that exec'd and exited before its parent's clone returned", () => {
    const { tracker } = track(
      [
        '210 execve("/bin/sh", ["sh", "-c", "true"], 0x1 /* 3 vars */) = 0',
        '210 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>',
        '211 execve("/bin/true", ["true"], 0x1 /* 3 vars */) = 0',
        '211 exit_group(0)                  = ?',
        '211 +++ exited with 0 +++',
        '210 <... clone resumed>, child_tidptr=0x7f) = 211',
      ].join('\n'),
    );
    expect(tracker.process(211)).toMatchObject({ pid: 211, ppid: 210, exe: '/bin/true', comm: 'true' });
  });

  it('lets threads share their process and CLONE_FS children share the cwd', () => {
    const { call } = track(
      [
        '300 execve("/usr/bin/python3", ["python3"], 0x1 /* 3 vars */) = 0',
        '300 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0} => {parent_tid=[301]}, 88) = 301',
        '300 openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC) = 3',
        '301 read(3, "box\\n", 4096)        = 4',
        '301 chdir("/var")                 = 0',
        '300 clone(child_stack=0x7f, flags=CLONE_VM|CLONE_FS|SIGCHLD) = 302',
        '302 chdir("/opt")                 = 0',
        '300 stat("file", 0x7ffd)            = -1 ENOENT (No such file or directory)',
      ].join('\n'),
    );
    const read = call('read');
    expect(read.pid).toBe(301);
    expect(read.process?.pid).toBe(300);
    expect(read.paths).toEqual(['/etc/hostname']);
    // The thread's chdir moved its process; the CLONE_FS child's chdir moved both.
    expect(call('stat').paths).toEqual(['/opt/file']);
    expect(call('stat').process?.cwd).toBe('/opt');
  });

  it("takes -Y's comm from the event, the leader's for a process with named threads", () => {
    const tracker = createContextTracker();
    const event = (pid: number, comm: string): SyscallEvent => ({
      kind: 'syscall',
      syscall: 'getpid',
      denied: false,
      raw: `${pid}<${comm}> getpid() = 1`,
      source: 'strace',
      pid,
      args: '',
      ret: '1',
      process: { pid, comm },
    });
    tracker.observe({
      ...event(50, 'node'),
      syscall: 'clone3',
      args: '{flags=CLONE_VM|CLONE_THREAD}',
      ret: '51',
    });
    expect(tracker.observe(event(51, 'V8Worker')).process).toMatchObject({ pid: 50, comm: 'node' });
    expect(tracker.observe(event(50, 'node-renamed')).process).toMatchObject({
      pid: 50,
      comm: 'node-renamed',
    });
  });

  it('reports clone flags, CLONE_UNTRACED included, through onSpawn and spawnOf', () => {
    const spawns: SpawnInfo[] = [];
    const { tracker } = track(
      [
        '400 clone(child_stack=0x7f, flags=CLONE_UNTRACED|SIGCHLD) = 401',
        '400 vfork()                          = 402',
        '400 clone(child_stack=NULL, flags=0x800011, child_tidptr=0x7f) = 403',
      ].join('\n'),
      { onSpawn: (s) => spawns.push(s) },
    );
    expect(spawns.map((s) => [s.child, s.untraced, s.thread])).toEqual([
      [401, true, false],
      [402, false, false],
      [403, true, false],
    ]);
    expect(tracker.spawnOf(402)?.flags).toEqual(['CLONE_VM', 'CLONE_VFORK']);
    expect(tracker.stats).toMatchObject({ spawns: 3, untracedSpawns: 2 });
    expect(tracker.process(401)?.ppid).toBe(400);
  });

  it('follows set*id returns and learns ids from get*id', () => {
    const { call } = track(
      [
        '500 getuid()                         = 0',
        '500 geteuid()                        = 0',
        '500 setresgid(65534, 65534, 65534)   = 0',
        '500 setresuid(-1, 65534, -1)         = 0',
        '500 openat(AT_FDCWD, "/root/x", O_RDONLY) = -1 EACCES (Permission denied)',
        '500 setuid(1000)                     = -1 EPERM (Operation not permitted)',
        '500 close(1)                         = 0',
      ].join('\n'),
    );
    expect(call('openat').process).toMatchObject({ uid: 0, euid: 65534, gid: 65534, egid: 65534 });
    // The failed setuid changed nothing: the same snapshot object is shared.
    expect(call('close').process).toBe(call('openat').process);
  });

  it('marks argv cut by -s, and decodes C escapes in strings', () => {
    const { call } = track(
      'execve("/usr/bin/python3", ["python3", "-c", "import os\\nprint(\\"h\\303\\251\\")"..., "x"], 0x7ffd /* 8 vars */) = 0',
    );
    const p = call('execve').process!;
    expect(p.argv).toEqual(['python3', '-c', 'import os\nprint("hé")', 'x']);
    expect(p.argvTruncated).toBe(true);
    expect(p.argvCut).toEqual([2]); // which entry: only the script was cut
    // A child inherits them with argv; an argv with nothing cut has none.
    const whole = track('execve("/bin/ls", ["ls", "-l"], 0x1 /* 1 var */) = 0').call('execve').process!;
    expect(whole.argvCut).toBeUndefined();
  });

  it('learns the pid of an unprefixed trace from set_tid_address', () => {
    const { call } = track(
      [
        'execve("/usr/bin/cat", ["cat"], 0x7ffe /* 8 vars */) = 0',
        'set_tid_address(0x7f1f464c8a10)         = 15488',
        'openat(AT_FDCWD</tmp/demo>, "x", O_RDONLY) = 3</tmp/demo/x>',
      ].join('\n'),
    );
    expect(call('openat').process).toMatchObject({ pid: 15488, exe: '/usr/bin/cat', cwd: '/tmp/demo' });
    expect(call('openat').paths).toEqual(['/tmp/demo/x']);
  });
});

describe('strace: fds and dirfds', () => {
  it('resolves paths against a dirfd from an earlier openat, and maps fds to paths', () => {
    const { call } = track(
      [
        '600 openat(AT_FDCWD, "/etc", O_RDONLY|O_DIRECTORY) = 5',
        '600 openat(5, "ssh/../passwd", O_RDONLY) = 6',
        '600 newfstatat(6, "", {st_mode=S_IFREG|0644, st_size=1, ...}, AT_EMPTY_PATH) = 0',
        '600 read(6, "root:x:0:0::/root:/bin/sh\\n", 4096) = 27',
        '600 dup2(6, 0)                      = 0',
        '600 mmap(NULL, 27, PROT_READ, MAP_PRIVATE, 0, 0) = 0x7f00',
        '600 renameat2(5, "a", AT_FDCWD, "/tmp/b", RENAME_NOREPLACE) = 0',
        '600 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 7',
        '600 connect(7, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("10.0.0.9")}, 16) = 0',
        '600 sendfile(7, 6, NULL, 27)          = 27',
        '600 close(6)                        = 0',
        '600 read(6, 0x7ffd, 10)             = -1 EBADF (Bad file descriptor)',
      ].join('\n'),
    );
    expect(call('openat', 1).paths).toEqual(['/etc/passwd']);
    expect(call('newfstatat').paths).toEqual(['/etc/passwd']);
    expect(call('read', 0).paths).toEqual(['/etc/passwd']);
    expect(call('mmap').paths).toEqual(['/etc/passwd']);
    expect(call('renameat2').paths).toEqual(['/etc/a', '/tmp/b']);
    expect(call('dup2').paths).toEqual(['/etc/passwd']);
    // Copying a file to a socket names the file and the peer.
    expect(call('sendfile').paths).toEqual(['/etc/passwd']);
    expect(call('sendfile').peer).toMatchObject({ address: '10.0.0.9', port: 443 });
    expect(call('close').paths).toEqual(['/etc/passwd']);
    expect(call('read', 1).paths).toBeUndefined();
    // Events on one fd share one paths array.
    expect(call('read', 0).paths).toBe(call('newfstatat').paths);
  });

  it('reads -y decorations (fds, AT_FDCWD, the returned fd) and unescapes them', () => {
    const { call } = track(
      [
        'openat(AT_FDCWD</home/x>, "a b", O_RDONLY) = 3</home/x/a b>',
        'fchdir(3</home/x/a b>)                 = 0',
        'write(1</dev/pts/0<char 136:0>>, "hi", 2) = 2',
        'read(4</tmp/\\74odd\\76>, "", 1)      = 0',
        'mkdirat(AT_FDCWD</home/x/a b>, "new", 0777) = 0',
      ].join('\n'),
    );
    expect(call('openat').paths).toEqual(['/home/x/a b']);
    expect(call('write').paths).toEqual(['/dev/pts/0']);
    expect(call('read').paths).toEqual(['/tmp/<odd>']);
    expect(call('mkdirat').paths).toEqual(['/home/x/a b/new']);
    expect(call('mkdirat').process?.cwd).toBe('/home/x/a b');
  });

  it('closes O_CLOEXEC fds at a successful execve and keeps the others', () => {
    const { call } = track(
      [
        '700 openat(AT_FDCWD, "/etc/a", O_RDONLY|O_CLOEXEC) = 3',
        '700 openat(AT_FDCWD, "/etc/b", O_RDONLY) = 4',
        '700 execve("/bin/true", ["true"], 0x1 /* 1 var */) = 0',
        '700 read(3, "", 1)                 = -1 EBADF (Bad file descriptor)',
        '700 read(4, "", 1)                 = 0',
      ].join('\n'),
    );
    expect(call('read', 0).paths).toBeUndefined();
    expect(call('read', 1).paths).toEqual(['/etc/b']);
  });

  it('caps the fds it remembers per process', () => {
    const lines = Array.from({ length: 50 }, (_, i) => `800 openat(AT_FDCWD, "/f${i}", O_RDONLY) = ${i + 3}`);
    lines.push('800 read(3, "", 1) = 0', '800 read(52, "", 1) = 0');
    const { call, tracker } = track(lines.join('\n'), { maxFdsPerProcess: 10 });
    expect(call('read', 0).paths).toBeUndefined();
    expect(call('read', 1).paths).toEqual(['/f49']);
    // Counted, so that a session can say the paths of 40 fds were lost.
    expect(tracker.stats.forgottenFds).toBe(40);
  });
});

describe('strace: sockets', () => {
  it('reads sockaddr peers (inet, inet6, unix, abstract) with the protocol from socket()', () => {
    const { call } = track(
      [
        '900 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3',
        '900 connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("1.2.3.4")}, 16) = -1 EINPROGRESS (Operation now in progress)',
        '900 write(3, "GET / HTTP/1.0\\r\\n\\r\\n", 18) = 18',
        '900 socket(AF_INET6, SOCK_DGRAM, IPPROTO_IP) = 4',
        '900 sendto(4, "x", 1, 0, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "fd00:ec2::254", &sin6_addr), sin6_scope_id=0}, 28) = 1',
        '900 socket(AF_UNIX, SOCK_STREAM, 0) = 5',
        '900 connect(5, {sa_family=AF_UNIX, sun_path="/run/x.sock"}, 110) = 0',
        '900 connect(5, {sa_family=AF_UNIX, sun_path=@"abstract"}, 12) = 0',
        '900 bind(4, {sa_family=AF_INET, sin_port=htons(5353), sin_addr=inet_addr("0.0.0.0")}, 16) = 0',
        '900 sendmsg(4, {msg_name={sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("9.9.9.9")}, msg_namelen=16, msg_iov=[{iov_base="{sa_family=AF_INET, sin_port=htons(1)", iov_len=5}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 5',
      ].join('\n'),
    );
    expect(call('connect', 0).peer).toEqual({
      family: 'inet',
      address: '1.2.3.4',
      port: 80,
      protocol: 'tcp',
    });
    expect(call('write').peer).toEqual({ family: 'inet', address: '1.2.3.4', port: 80, protocol: 'tcp' });
    expect(call('sendto').peer).toEqual({
      family: 'inet6',
      address: 'fd00:ec2::254',
      port: 443,
      protocol: 'udp',
    });
    expect(call('connect', 1).peer).toEqual({ family: 'unix', path: '/run/x.sock' });
    expect(call('connect', 2).peer).toEqual({ family: 'unix', path: '@abstract' });
    expect(call('bind').local).toEqual({ family: 'inet', address: '0.0.0.0', port: 5353, protocol: 'udp' });
    expect(call('sendmsg').peer).toMatchObject({ address: '9.9.9.9', port: 53 });
  });

  it('reads the sockaddrs strace -X raw prints as bytes and -X verbose names in comments', () => {
    for (const lines of [
      [
        '19900 socket(0xa, 0x2|0x80000, 0) = 3',
        '19900 sendto(3, "x", 1, 0, {sa_family=0xa, sin6_port="\\x01\\xbb", sin6_flowinfo="\\x00\\x00\\x00\\x00", sin6_addr="\\xfd\\x00\\x0e\\xc2\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x54", sin6_scope_id=0}, 28) = 1',
        '19900 socket(0x1, 0x1|0x80000, 0) = 4',
        '19900 connect(4, {sa_family=0x1, sun_path="/run/nonexistent.sock"}, 24) = -1 ENOENT (No such file or directory)',
        '19900 socket(0x2, 0x1|0x80000, 0) = 5',
        '19900 connect(5, {sa_family=0x2, sin_port="\\x00\\x50", sin_addr="\\xa9\\xfe\\xa9\\xfe"}, 16) = -1 EINPROGRESS (Operation now in progress)',
      ],
      [
        '19947 socket(0xa /* AF_INET6 */, 0x2 /* SOCK_DGRAM */|0x80000 /* SOCK_CLOEXEC */, 0 /* IPPROTO_IP */) = 3',
        '19947 sendto(3, "x", 1, 0, {sa_family=0xa /* AF_INET6 */, sin6_port="\\x01\\xbb" /* htons(443) */, sin6_flowinfo="\\x00\\x00\\x00\\x00" /* htonl(0) */, sin6_addr="\\xfd\\x00\\x0e\\xc2\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x54" /* inet_pton(AF_INET6, "fd00:ec2::254") */, sin6_scope_id=0}, 28) = 1',
        '19947 socket(0x1 /* AF_UNIX */, 0x1 /* SOCK_STREAM */|0x80000 /* SOCK_CLOEXEC */, 0) = 4',
        '19947 connect(4, {sa_family=0x1 /* AF_UNIX */, sun_path="/run/nonexistent.sock"}, 24) = -1 ENOENT (No such file or directory)',
        '19947 socket(0x2 /* AF_INET */, 0x1 /* SOCK_STREAM */|0x80000 /* SOCK_CLOEXEC */, 0 /* IPPROTO_IP */) = 5',
        '19947 connect(5, {sa_family=0x2 /* AF_INET */, sin_port="\\x00\\x50" /* htons(80) */, sin_addr="\\xa9\\xfe\\xa9\\xfe" /* inet_addr("169.254.169.254") */}, 16) = -1 EINPROGRESS (Operation now in progress)',
      ],
    ]) {
      const { call } = track(lines.join('\n'));
      expect(call('sendto').peer).toEqual({
        family: 'inet6',
        address: 'fd00:ec2::254',
        port: 443,
        protocol: 'udp',
      });
      expect(call('connect', 0).peer).toEqual({ family: 'unix', path: '/run/nonexistent.sock' });
      expect(call('connect', 1).peer).toEqual({
        family: 'inet',
        address: '169.254.169.254',
        port: 80,
        protocol: 'tcp',
      });
    }
  });

  it('reads -yy socket decorations and gives an accepted socket its peer', () => {
    const { call } = track(
      [
        '950 read(5<TCP:[127.0.0.1:40000->127.0.0.1:80]>, "x", 1) = 1',
        '950 write(6<TCPv6:[[::1]:8080->[::1]:51000]>, "x", 1) = 1',
        '950 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3',
        '950 bind(3, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '950 accept4(3, {sa_family=AF_INET, sin_port=htons(51234), sin_addr=inet_addr("127.0.0.1")}, [16], SOCK_CLOEXEC) = 7',
        '950 recvfrom(7, "hi", 2, 0, NULL, NULL) = 2',
      ].join('\n'),
    );
    expect(call('read').peer).toEqual({ family: 'inet', address: '127.0.0.1', port: 80, protocol: 'tcp' });
    expect(call('read').local).toEqual({
      family: 'inet',
      address: '127.0.0.1',
      port: 40000,
      protocol: 'tcp',
    });
    expect(call('write').peer).toEqual({ family: 'inet6', address: '::1', port: 51000, protocol: 'tcp' });
    expect(call('recvfrom').peer).toEqual({
      family: 'inet',
      address: '127.0.0.1',
      port: 51234,
      protocol: 'tcp',
    });
    expect(call('recvfrom').local).toMatchObject({ port: 8000 });
    // Events are made with peer and local present (undefined); their JSON still lists them
    // in the order the tracker found them: the accept's local (its bound socket's) first.
    const ends = (e: SyscallEvent) =>
      Object.keys(JSON.parse(JSON.stringify(e))).filter((k) => k === 'peer' || k === 'local');
    expect(ends(call('accept4'))).toEqual(['local', 'peer']);
    expect(ends(call('read'))).toEqual(['peer', 'local']);
  });

  it('parses decorations it cannot fully read without guessing', () => {
    expect(parseSocketDecoration('TCP:[29082]')).toEqual({
      family: 'inet',
      protocol: 'tcp',
      local: undefined,
      peer: undefined,
    });
    expect(parseSocketDecoration('/etc/passwd')).toBeUndefined();
    expect(parseSocketDecoration('UNIX-STREAM:[1234,"/run/x"]')?.local).toEqual({
      family: 'unix',
      path: '/run/x',
    });
  });
});

describe('bounds', () => {
  it('keeps at most maxProcesses, evicting exited ones first', () => {
    const lines: string[] = [];
    for (let pid = 1000; pid < 1100; pid++) {
      lines.push(`${pid} getpid() = ${pid}`);
      if (pid % 2 === 0) lines.push(`${pid} +++ exited with 0 +++`);
    }
    const { tracker } = track(lines.join('\n'), { maxProcesses: 60, exitedGrace: 1000 });
    expect(tracker.stats.processes).toBeLessThanOrEqual(60);
    expect(tracker.process(1099)).toBeDefined();
    // Running ones outlive exited ones.
    expect(tracker.process(1051)).toBeDefined();
    expect(tracker.process(1050)).toBeUndefined();
  });

  it('evicts the least recently used live process when none has exited', () => {
    const lines = ['1 getpid() = 1'];
    for (let pid = 2; pid <= 30; pid++) lines.push(`${pid} getpid() = ${pid}`, '1 getppid() = 0');
    const { tracker } = track(lines.join('\n'), { maxProcesses: 10 });
    expect(tracker.stats.processes).toBe(10);
    // pid 1 kept calling, so it stayed; 2…21 were pushed out by newer ones.
    expect(tracker.process(1)).toBeDefined();
    expect(tracker.process(21)).toBeUndefined();
    expect(tracker.process(30)).toBeDefined();
    expect(tracker.stats).toMatchObject({ evicted: 20, evictedLive: 20 });
  });

  it('caps argv count and length, and rejects bad options with one clear error', () => {
    const argv = Array.from({ length: 20 }, (_, i) => `"a${'x'.repeat(i)}"`).join(', ');
    const { call } = track(`execve("/bin/echo", [${argv}], 0x1 /* 1 var */) = 0`, {
      maxArgs: 5,
      maxArgLength: 3,
    });
    const p = call('execve').process!;
    expect(p.argv).toEqual(['a', 'ax', 'axx', 'axx', 'axx']);
    expect(p.argvTruncated).toBe(true);
    expect(Object.isFrozen(p)).toBe(true);
    expect(() => createContextTracker({ maxProcesses: 0 })).toThrow(
      /maxProcesses must be a positive integer/,
    );
  });
});

describe('audit', () => {
  it('decodes SOCKADDR hex for every family, ports in network order', () => {
    expect(decodeAuditSockaddr('02000050A9FEA9FE0000000000000000')).toEqual({
      family: 'inet',
      address: '169.254.169.254',
      port: 80,
    });
    expect(decodeAuditSockaddr('0A002BCB000000000000000000000000000000000000000100000000')).toEqual({
      family: 'inet6',
      address: '::1',
      port: 11211,
    });
    expect(decodeAuditSockaddr('01002F6465762F6C6F6700000000')).toEqual({ family: 'unix', path: '/dev/log' });
    expect(decodeAuditSockaddr('0100006162630000')).toEqual({ family: 'unix', path: '@abc' });
    expect(decodeAuditSockaddr('100000000000000000000000')).toEqual({ family: 'netlink' });
    // ppc64 (big-endian) writes the family as 0002.
    expect(decodeAuditSockaddr('0002D903000000000000000000000000', true)).toEqual({
      family: 'inet',
      address: '0.0.0.0',
      port: 55555,
    });
    expect(decodeAuditSockaddr('')).toBeUndefined();
    expect(decodeAuditSockaddr('zz')).toBeUndefined();
    expect(formatIpv6(Uint8Array.from([0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54]))).toBe(
      'fd00:ec2::254',
    );
  });

  it('names the object of AppArmor and SELinux denials without a SYSCALL record', () => {
    const { records } = track(
      [
        'type=AVC msg=audit(1700000002.000:50): apparmor="DENIED" operation="open" profile="/usr/sbin/cupsd" name="/etc/shadow" pid=1234 comm="cupsd" requested_mask="r" denied_mask="r" fsuid=0 ouid=0',
        'type=AVC msg=audit(1700000003.000:51): avc:  denied  { getattr } for  pid=2345 comm="httpd" path="/var/www/../secret" dev="dm-0" ino=1 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0',
        'type=AVC msg=audit(1700000004.000:52): avc:  denied  { read } for  pid=2345 comm="httpd" name="shadow" dev="dm-0" ino=1 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0',
      ].join('\n'),
    );
    const events = records.filter((r) => r.kind === 'audit' || r.kind === 'syscall');
    expect(events.map((e) => e.paths)).toEqual([['/etc/shadow'], ['/var/secret'], undefined]);
    expect(events.map((e) => e.process?.comm)).toEqual(['cupsd', 'httpd', 'httpd']);
  });

  it('fills the process, PATH names against CWD, the peer and the host from one event', () => {
    const text = [
      'node=web1 type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=55 a2=0 a3=0 items=1 ppid=811 pid=812 auid=1000 uid=65534 gid=65534 euid=65534 suid=65534 fsuid=65534 egid=65534 sgid=65534 fsgid=65534 tty=pts0 ses=3 comm="cat" exe="/usr/bin/cat" key="shadow"',
      'node=web1 type=CWD msg=audit(1700000000.123:42): cwd="/etc"',
      'node=web1 type=PATH msg=audit(1700000000.123:42): item=0 name="./shadow" inode=1 dev=08:01 mode=0100640 ouid=0 ogid=42 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0',
      'node=web1 type=PROCTITLE msg=audit(1700000000.123:42): proctitle=636174002F6574632F736861646F77',
      'node=web1 type=EOE msg=audit(1700000000.123:42): ',
      'type=SYSCALL msg=audit(1700000001.000:43): arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=1 a2=10 a3=0 items=0 ppid=1 pid=900 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="curl" exe="/usr/bin/curl" key=(null)',
      'type=SOCKADDR msg=audit(1700000001.000:43): saddr=02000050A9FEA9FE0000000000000000',
      'type=EOE msg=audit(1700000001.000:43): ',
    ].join('\n');
    const { call, tracker } = track(text);
    const open = call('openat');
    expect(open.process).toEqual({
      pid: 812,
      ppid: 811,
      exe: '/usr/bin/cat',
      comm: 'cat',
      argv: ['cat', '/etc/shadow'],
      cwd: '/etc',
      uid: 65534,
      euid: 65534,
      gid: 65534,
      egid: 65534,
      auid: 1000,
      ses: 3,
      tty: 'pts0',
    });
    expect(open.paths).toEqual(['/etc/shadow']);
    expect(open.host).toBe('web1');
    const connect = call('connect');
    // The SOCKADDR record's raw hex, as the audit reader hands it over in `audit.saddr`.
    if (connect.audit !== undefined && connect.audit.saddr === undefined) {
      connect.audit.saddr = '02000050A9FEA9FE0000000000000000';
      tracker.observe(connect);
    }
    expect(connect.peer).toEqual({ family: 'inet', address: '169.254.169.254', port: 80 });
    expect(connect.process).toMatchObject({ pid: 900, ppid: 1, uid: 0 });
    expect(connect.process).not.toHaveProperty('auid');
    expect(tracker.process(812)?.comm).toBe('cat');
  });
});
