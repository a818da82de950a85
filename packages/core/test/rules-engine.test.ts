import { describe, expect, it } from 'vitest';
import { openedElsewhere } from '../src/context/opened-path.js';
import type { Alert } from '../src/detect/alert.js';
import { isSyscanError } from '../src/errors.js';
import { createRuleEvaluator, loadRules, toFalcoJson } from '../src/rules/index.js';
import { argValue, openMode } from '../src/rules/syscall-args.js';
import type { ProcessInfo, ProcessLookup, SyscallEvent } from '../src/types.js';

const bash: ProcessInfo = {
  pid: 10,
  ppid: 1,
  exe: '/usr/bin/bash',
  comm: 'bash',
  argv: ['bash', '-c', 'x'],
  uid: 1000,
};
const cat: ProcessInfo = {
  pid: 11,
  ppid: 10,
  exe: '/usr/bin/cat',
  comm: 'cat',
  argv: ['cat', '/etc/shadow'],
  cwd: '/home/u',
  uid: 0,
  auid: 1000,
};
const lookup: ProcessLookup = { process: (pid) => ({ 10: bash, 11: cat })[pid] };

function ev(partial: Partial<SyscallEvent> & { syscall: string }): SyscallEvent {
  return { kind: 'syscall', denied: false, raw: `${partial.syscall}(...) = 0`, source: 'strace', ...partial };
}

const openShadow = ev({
  syscall: 'openat',
  args: 'AT_FDCWD, "/etc/shadow", O_RDONLY|O_CLOEXEC',
  ret: '3',
  paths: ['/etc/shadow'],
  process: cat,
  pid: 11,
  line: 7,
  time: 29_914_005.838,
});

function run(yaml: string, events: SyscallEvent[]): Alert[] {
  const { rules } = loadRules([{ name: 'test.yaml', text: yaml }]);
  const evaluator = createRuleEvaluator(rules);
  const out: Alert[] = [];
  for (const e of events) evaluator.evaluate(e, lookup, out);
  return out;
}

function loadError(yaml: string): string {
  try {
    loadRules([{ name: 'bad.yaml', text: yaml }]);
  } catch (error) {
    expect(isSyscanError(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

const shadowRule = `
- list: sensitive_names
  items: [/etc/shadow, /etc/sudoers]
- macro: open_read
  condition: evt.type in (open, openat, openat2) and evt.is_open_read=true and fd.typechar='f' and fd.num>=0
- rule: Read sensitive file
  desc: a sensitive file was read
  condition: open_read and fd.name in (sensitive_names) and not proc.name in (sshd)
  output: Sensitive file opened (file=%fd.name proc=%proc.name parent=%proc.pname gparent=%proc.aname[2] uid=%user.uid user=%user.name)
  priority: WARNING
  tags: [filesystem, mitre_credential_access]
`;

describe('rule engine', () => {
  it('matches a Falco rule with lists, macros and ancestors, and renders its output', () => {
    const alerts = run(shadowRule, [
      openShadow,
      ev({ ...openShadow, paths: ['/etc/passwd'], args: 'AT_FDCWD, "/etc/passwd", O_RDONLY' }),
    ]);
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a).toMatchObject({
      type: 'rule',
      rule: 'Read sensitive file',
      severity: 'medium',
      line: 7,
      pid: 11,
      syscall: 'openat',
    });
    expect(a.message).toBe(
      'Sensitive file opened (file=/etc/shadow proc=cat parent=bash gparent=<NA> uid=0 user=<NA>)',
    );
    expect(a.tags).toEqual(['filesystem', 'mitre_credential_access']);
  });

  it('is false, not true, for a field the event lacks, even with !=', () => {
    const yaml = `- rule: r\n  desc: d\n  condition: evt.type=openat and proc.pname != zsh\n  output: o\n  priority: info`;
    expect(run(yaml, [ev({ syscall: 'openat' })])).toHaveLength(0);
    expect(run(yaml, [openShadow])).toHaveLength(1);
  });

  it('supports the operators', () => {
    const cases: Array<[string, boolean]> = [
      ['fd.name startswith /etc/', true],
      ['fd.name endswith shadow', true],
      ['fd.name contains sha', true],
      ['fd.name icontains SHA', true],
      ['fd.name glob /etc/*ad?w', true],
      ['fd.name glob /etc/[!s]*', false],
      ['fd.name pmatch (/etc)', true],
      ['fd.name pmatch (/et)', false],
      ['fd.directory = /etc', true],
      ['fd.filename = shadow', true],
      ['fd.name regex "^/etc/s.*w$"', true],
      ['proc.aname = bash', true],
      ['proc.aname[1] = bash', true],
      ['proc.aname[0] = cat', true],
      ['proc.args = /etc/shadow', true],
      ['proc.cmdline = "cat /etc/shadow"', true],
      ['proc.cmdline intersects (a, "cat /etc/shadow")', true],
      ['user.uid < 1', true],
      ['user.loginuid >= 1000', true],
      ['proc.cwd exists', true],
      ['fd.sip exists', false],
      ['evt.res = SUCCESS', true],
      ['evt.failed = false', true],
      ['evt.arg.flags contains O_RDONLY', true],
      ['evt.arg[1] = /etc/shadow', true],
      ['tolower(proc.name) = CAT', false],
      ['toupper(proc.name) = CAT', true],
      ['proc.pid != val(proc.ppid)', true],
      ['(fd.name = /x or fd.name = /etc/shadow) and not fd.name = /y', true],
    ];
    for (const [condition, expected] of cases) {
      const yaml = `- rule: r\n  desc: d\n  condition: 'evt.type=openat and ${condition.replace(/'/g, "''")}'\n  output: o\n  priority: info`;
      expect([condition, run(yaml, [openShadow]).length]).toEqual([condition, expected ? 1 : 0]);
    }
  });

  it('matches peers by CIDR, IPv6 and IPv4-mapped addresses', () => {
    const yaml = `- rule: meta\n  desc: d\n  condition: evt.type=connect and (fd.rnet in (169.254.0.0/16) or fd.sip = fd00:ec2::254)\n  output: "to %fd.name (%fd.sip:%fd.sport %fd.l4proto)"\n  priority: critical`;
    const connect = (address: string, family: 'inet' | 'inet6') =>
      ev({ syscall: 'connect', peer: { family, address, port: 80, protocol: 'tcp' }, process: cat });
    const alerts = run(yaml, [
      connect('169.254.169.254', 'inet'),
      connect('fd00:ec2:0::254', 'inet6'),
      connect('::ffff:169.254.169.254', 'inet6'),
      connect('127.0.0.1', 'inet'),
    ]);
    expect(alerts.map((a) => a.message)).toEqual([
      'to 169.254.169.254:80 (169.254.169.254:80 tcp)',
      'to [fd00:ec2:0::254]:80 (fd00:ec2::254:80 tcp)',
      'to [::ffff:169.254.169.254]:80 (169.254.169.254:80 tcp)',
    ]);
  });

  it('applies exceptions, override append/replace and legacy append', () => {
    const base = `${shadowRule}
- rule: Read sensitive file
  exceptions:
    - name: readers
      fields: [proc.name, fd.name]
      comps: [=, in]
      values:
        - [cat, [/etc/shadow]]
  override:
    exceptions: append
`;
    expect(run(base, [openShadow])).toHaveLength(0);
    const appended = `${shadowRule}
- list: sensitive_names
  items: [/etc/gshadow]
  override:
    items: replace
- macro: open_read
  condition: and proc.name = nobody
  override:
    condition: append
`;
    expect(run(appended, [openShadow])).toHaveLength(0);
    const legacy = `${shadowRule}
- rule: Read sensitive file
  condition: and proc.name = nobody
  append: true
`;
    const loaded = loadRules([{ name: 'l.yaml', text: legacy }]);
    expect(loaded.warnings.map((w) => w.code)).toContain('deprecated');
    expect(run(legacy, [openShadow])).toHaveLength(0);
    const disabled = `${shadowRule}\n- rule: Read sensitive file\n  enabled: false\n  override:\n    enabled: replace\n`;
    expect(run(disabled, [openShadow])).toHaveLength(0);
  });

  it('skips a rule that needs a field syscan cannot know, with a warning', () => {
    const yaml = `- rule: container shell\n  desc: d\n  condition: evt.type = execve and container.id != host\n  output: o\n  priority: notice`;
    const { rules, warnings } = loadRules([{ name: 'c.yaml', text: yaml }]);
    expect(rules).toHaveLength(0);
    expect(warnings[0]).toMatchObject({ code: 'unsupported_field', rule: 'container shell', line: 1 });
    expect(warnings[0]!.message).toContain('container.id');
  });

  it('names file, line and rule for unknown fields, macros and bad syntax', () => {
    const prefix = '- list: l\n  items: [a]\n';
    expect(
      loadError(
        `${prefix}- rule: R1\n  desc: d\n  condition: evt.type = open and proc.nmae = x\n  output: o\n  priority: info`,
      ),
    ).toBe(
      "bad.yaml:5: rule 'R1': unknown field 'proc.nmae' (did you mean 'proc.name'?) near 'proc.nmae = x'",
    );
    expect(
      loadError(
        `- rule: R2\n  desc: d\n  condition: |\n    evt.type = open and\n    (proc.name = x\n  output: o\n  priority: info`,
      ),
    ).toMatch(/^bad\.yaml:5: rule 'R2': syntax error: expected '\)'/);
    expect(
      loadError(`- rule: R3\n  desc: d\n  condition: no_such_macro\n  output: o\n  priority: info`),
    ).toContain("undefined macro 'no_such_macro'");
    expect(
      loadError(`- rule: R4\n  desc: d\n  condition: user.uid = root\n  output: o\n  priority: info`),
    ).toContain("'root' is not a number");
    expect(
      loadError(`- rule: R5\n  desc: d\n  condition: evt.type=open\n  output: o\n  priority: loud`),
    ).toContain("unknown priority 'loud'");
    expect(
      loadError(`- rule: R6\n  desc: d\n  condition: evt.type=open\n  output: o %proc.nam\n  priority: info`),
    ).toContain("unknown field '%proc.nam'");
    expect(loadError('- rule: [unclosed')).toMatch(/^bad\.yaml:1: not valid YAML/);
    expect(loadError('- rule: X\n  condition: and y\n  override:\n    condition: append')).toContain(
      'not defined earlier',
    );
  });

  it('says which rules the syscall name alone decides', () => {
    const yaml = `- rule: kmod\n  desc: d\n  condition: evt.type in (init_module, finit_module) and evt.dir = <\n  output: o\n  priority: critical\n  action: kill
- rule: ptrace
  desc: d
  condition: evt.type = ptrace and evt.arg.request in (PTRACE_ATTACH)
  output: o
  priority: error`;
    const { rules } = loadRules([{ name: 'k.yaml', text: yaml }]);
    expect(rules[0]!.decidedBySyscall).toEqual(['init_module', 'finit_module']);
    expect(rules[0]!.action).toBe('kill');
    expect(rules[1]!.decidedBySyscall).toBeUndefined();
    expect([...createRuleEvaluator(rules).decidedBySyscall.keys()]).toEqual(['init_module', 'finit_module']);
  });

  it('formats a rule alert as Falco JSON', () => {
    const [alert] = run(shadowRule, [openShadow]);
    const json = toFalcoJson(alert!, { hostname: 'box', now: () => Date.UTC(2026, 11, 1, 12) });
    expect(json).toMatchObject({
      hostname: 'box',
      priority: 'Warning',
      rule: 'Read sensitive file',
      source: 'syscall',
      tags: ['filesystem', 'mitre_credential_access'],
      time: '2026-12-01T08:18:34.005838000Z',
    });
    expect(json.output).toBe(`08:18:34.005838000: Warning ${alert!.message}`);
    expect(json.output_fields).toMatchObject({
      'fd.name': '/etc/shadow',
      'proc.aname[2]': null,
      'user.uid': 0,
      'user.name': null,
    });
  });

  it('reads open flags after the path only, so a path cannot fake them', () => {
    expect(
      openMode('openat', 'AT_FDCWD</tmp/O_WRONLY>, "/tmp/O_WRONLY|O_CREAT", O_RDONLY|O_CLOEXEC'),
    ).toEqual({
      read: true,
      write: false,
      create: false,
      exec: false,
    });
    expect(openMode('openat', 'AT_FDCWD, "x", O_WRONLY|O_CREAT|O_TRUNC, 0755')).toEqual({
      read: false,
      write: true,
      create: true,
      exec: true,
    });
    expect(openMode('open', '"x", O_RDWR|O_CREAT, 0644')).toEqual({
      read: true,
      write: true,
      create: true,
      exec: false,
    });
    expect(
      openMode('openat2', 'AT_FDCWD, "x", {flags=O_WRONLY|O_CREAT, mode=0700, resolve=0}, 24'),
    ).toMatchObject({ write: true, exec: true });
    expect(openMode('creat', '"x", 0600')).toEqual({ read: false, write: true, create: true, exec: false });
    expect(openMode('read', '3, "", 10')).toBeUndefined();
  });

  it('reads open flags strace -X raw prints as numbers, and -X verbose names in comments', () => {
    // strace -X raw: `openat(-100, "x", 0x241, 0666)`; a path's digits cannot fake them.
    expect(openMode('openat', '-100, "/tmp/s11/home/.ssh/id_rsa", 0')).toEqual({
      read: true,
      write: false,
      create: false,
      exec: false,
    });
    expect(openMode('openat', '-100, "x", 0x241, 0666')).toEqual({
      read: false,
      write: true,
      create: true,
      exec: false,
    });
    expect(openMode('open', '"/0x241", 02')).toMatchObject({ read: true, write: true });
    expect(openMode('openat2', '-100, "x", {flags=0x80001, mode=0, resolve=0}, 24')).toMatchObject({
      read: false,
      write: true,
    });
    expect(
      openMode('openat', '-100 /* AT_FDCWD */, "x", 0x241 /* O_WRONLY|O_CREAT|O_TRUNC */, 0755'),
    ).toEqual({
      read: false,
      write: true,
      create: true,
      exec: true,
    });
    // -e raw: no path string, nothing to read the flags after.
    expect(openMode('openat', '0xffffff9c, 0x7ffc749ddad2, 0, 0')).toBeUndefined();
    expect(argValue('0x10 /* PTRACE_ATTACH */')).toBe('PTRACE_ATTACH');
    expect(argValue('0x10020000 /* CLONE_NEWNS|CLONE_NEWUSER */|17 /* SIGCHLD */')).toBe(
      'CLONE_NEWNS|CLONE_NEWUSER|SIGCHLD',
    );
    expect(argValue('0x7ffc0b237b78 /* 35 vars */')).toBe('0x7ffc0b237b78 /* 35 vars */');
  });

  it('knows which files the run wrote or made executable, through renames', () => {
    const yaml = `- rule: dropped\n  desc: d\n  condition: evt.type = execve and (syscan.exe_written = true or syscan.exe_made_executable = true)\n  output: ran %proc.exepath\n  priority: error`;
    const sh: ProcessInfo = { pid: 20, comm: 'sh', exe: '/bin/sh' };
    const events = [
      ev({
        syscall: 'openat',
        args: 'AT_FDCWD, "/tmp/a", O_WRONLY|O_CREAT|O_TRUNC, 0644',
        ret: '3',
        paths: ['/tmp/a'],
        process: sh,
      }),
      ev({
        syscall: 'rename',
        args: '"/tmp/a", "/tmp/b"',
        ret: '0',
        paths: ['/tmp/a', '/tmp/b'],
        process: sh,
      }),
      ev({
        syscall: 'execve',
        args: '"/tmp/b", ["b"]',
        ret: '0',
        paths: ['/tmp/b'],
        process: { pid: 21, exe: '/tmp/b', comm: 'b' },
      }),
      ev({ syscall: 'chmod', args: '"/tmp/c", 0755', ret: '0', paths: ['/tmp/c'], process: sh }),
      ev({
        syscall: 'execve',
        args: '"/tmp/c", ["c"]',
        ret: '0',
        paths: ['/tmp/c'],
        process: { pid: 22, exe: '/tmp/c', comm: 'c' },
      }),
      ev({
        syscall: 'execve',
        args: '"/bin/ls", ["ls"]',
        ret: '0',
        paths: ['/bin/ls'],
        process: { pid: 23, exe: '/bin/ls', comm: 'ls' },
      }),
    ];
    expect(run(yaml, events).map((a) => a.message)).toEqual(['ran /tmp/b', 'ran /tmp/c']);
  });

  it('warns about evt.type names that are no syscall (typos, Falco-only events)', () => {
    const yaml = `- rule: typo\n  desc: d\n  condition: evt.type in (opne, openat) or evt.type = procexit\n  output: o\n  priority: info`;
    const { rules, warnings } = loadRules([{ name: 't.yaml', text: yaml }]);
    expect(rules).toHaveLength(1);
    expect(warnings.map((w) => [w.code, w.message])).toEqual([
      [
        'unknown_event_type',
        "t.yaml:1: rule 'typo': evt.type opne, procexit: no such syscall on any arch; never matches",
      ],
    ]);
  });

  it('formats other alerts as Falco JSON too: type as rule, priority from severity, context as fields', () => {
    const alert: Alert = {
      type: 'denied_syscall',
      severity: 'high',
      message: 'denied syscall: openat',
      count: 1,
      syscall: 'openat',
      errno: 'EACCES',
      process: { ...cat, user: 'root', loginUser: 'alice' },
      paths: ['/etc/shadow'],
      time: 1_796_119_184_110.5,
    };
    expect(toFalcoJson(alert, { hostname: 'h' })).toEqual({
      hostname: 'h',
      output: '09:59:44.110500000: Error denied syscall: openat',
      output_fields: {
        'evt.type': 'openat',
        'evt.res': 'EACCES',
        'proc.pid': 11,
        'proc.name': 'cat',
        'proc.exepath': '/usr/bin/cat',
        'proc.cmdline': 'cat /etc/shadow',
        'proc.ppid': 10,
        'user.uid': 0,
        'user.name': 'root',
        'user.loginuid': 1000,
        'user.loginname': 'alice',
        'fd.name': '/etc/shadow',
        'evt.time': 1_796_119_184_110_500_000,
      },
      priority: 'Error',
      rule: 'denied_syscall',
      source: 'syscall',
      tags: [],
      time: '2026-12-01T09:59:44.110500000Z',
    });
  });

  it('reads open flags of audit records from their registers (auditFields)', () => {
    const audit = (a2: string): SyscallEvent => ({
      ...openShadow,
      source: 'audit',
      args: undefined,
      audit: { serial: 1, recordTypes: ['SYSCALL', 'PATH'], fields: { 'SYSCALL.a2': a2, 'SYSCALL.a3': '0' } },
    });
    const yaml = shadowRule;
    expect(run(yaml, [audit('80000')])).toHaveLength(1); // O_RDONLY|O_CLOEXEC
    expect(run(yaml, [audit('241')])).toHaveLength(0); // O_WRONLY|O_CREAT|O_TRUNC
    // A create lists the PARENT directory first: the file is the last path.
    const startup = `- rule: w\n  desc: d\n  condition: evt.type = openat and evt.is_open_write = true and fd.filename = .bashrc\n  output: wrote %fd.name in %fd.directory\n  priority: error`;
    const create = { ...audit('241'), paths: ['/root', '/root/.bashrc'] };
    expect(run(startup, [create]).map((a) => a.message)).toEqual(['wrote /root/.bashrc in /root']);
    expect(run(yaml, [{ ...audit('0'), audit: { serial: 1, recordTypes: ['SYSCALL'] } }])).toHaveLength(0);
  });

  it('turns hostile rule files into one error, not a stack overflow or a blow-up', () => {
    const deep = `- rule: deep\n  desc: d\n  condition: ${'('.repeat(5000)}evt.type = open${')'.repeat(5000)}\n  output: o\n  priority: info`;
    expect(loadError(deep)).toMatch(/^bad\.yaml:3: rule 'deep': syntax error: nested deeper than 200 levels/);
    const lists = Array.from({ length: 30 }, (_, i) => `- list: l${i}\n  items: [l${i + 1}, l${i + 1}]`).join(
      '\n',
    );
    const laughs = `${lists}\n- rule: laughs\n  desc: d\n  condition: evt.type = open and fd.name in (l0)\n  output: o\n  priority: info`;
    expect(loadError(laughs)).toContain('expands to more than 100000 items');
    const macros = Array.from(
      { length: 30 },
      (_, i) => `- macro: m${i}\n  condition: (m${i + 1} or m${i + 1})`,
    ).join('\n');
    const bomb = `${macros}\n- macro: m30\n  condition: evt.type = open\n- rule: bomb\n  desc: d\n  condition: m0\n  output: o\n  priority: info`;
    expect(loadError(bomb)).toContain('more than 10000 macro expansions');
  });

  it("matches Falco's entry (`>`) and exit (`<`) rules on a complete strace call", () => {
    const rule = (dir: string) =>
      `- rule: r\n  desc: d\n  condition: evt.type = openat and evt.dir = ${dir}\n  output: dir %evt.dir\n  priority: info`;
    const unfinished = ev({ ...openShadow, unfinished: true, ret: undefined });
    expect(run(rule('>'), [openShadow, unfinished]).map((a) => a.message)).toEqual(['dir <', 'dir >']);
    expect(run(rule('<'), [openShadow, unfinished]).map((a) => a.message)).toEqual(['dir <']);
  });

  it('judges the file an open really opened when strace -y shows it (a symlink is no way around a rule)', () => {
    const viaLink = ev({
      ...openShadow,
      args: 'AT_FDCWD</tmp>, "/tmp/innocent", O_RDONLY',
      paths: ['/tmp/innocent'],
      raw: 'openat(AT_FDCWD</tmp>, "/tmp/innocent", O_RDONLY) = 3</etc/shadow> <0.000012>',
    });
    const [alert] = run(shadowRule, [viaLink]);
    expect(alert?.message).toBe(
      'Sensitive file opened (file=/etc/shadow proc=cat parent=bash gparent=<NA> uid=0 user=<NA>)',
    );
    // The alert names both: the link the call named, and the file it opened.
    expect([alert?.paths, alert?.opened]).toEqual([['/tmp/innocent'], '/etc/shadow']);
    // -yy's device decoration is not part of the path; a path opened as named is not repeated.
    const opened = (raw: string, paths = ['/tmp/innocent']) =>
      openedElsewhere(ev({ ...viaLink, raw, paths }));
    expect(opened('openat(AT_FDCWD</tmp>, "/dev/mem", O_RDONLY) = 3</dev/mem<char 1:1>>', ['/dev/mem'])).toBe(
      undefined,
    );
    expect(opened('openat(AT_FDCWD</tmp>, "/tmp/k", O_RDONLY) = 3</dev/mem<char 1:1>>')).toBe('/dev/mem');
    expect(opened('openat(AT_FDCWD</tmp>, "/tmp/innocent", O_RDONLY) = 3</tmp/innocent>')).toBe(undefined);
    const plain = ev({ ...viaLink, raw: 'openat(AT_FDCWD, "/tmp/innocent", O_RDONLY) = 3' });
    expect(run(shadowRule, [plain])).toHaveLength(0);
  });
});
