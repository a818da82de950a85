/**
 * The agent-tools pack on real traces: for each rule, real commands under real strace that
 * trip it, and similar everyday commands that must not. Network cases skip every connect()
 * (strace fault injection), so nothing leaves this machine. `RULES_HIT_TABLE=1` prints the
 * hit table.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRules } from '../src/rules/index.js';
import { AGENT_TOOLS_RULES, EGRESS_RULE, egressAllowListRules } from '../src/rules/packs/index.js';
import { hasStrace, ruleAlerts, traceCommand } from './helpers/rule-trace.js';

const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const has = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const hasNc = has('nc');
if (!hasStrace) console.warn('[syscan] strace missing: agent-tools pack tests skipped');

/** Python snippets calling the syscalls no everyday tool makes (ctypes: no compiler needed). */
const CTYPES = `import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
what = sys.argv[1]
if what in ('ptrace', 'vm_writev', 'traceme'):
    pid = os.fork()
    if pid == 0:
        time.sleep(2); os._exit(0)
    if what == 'ptrace': libc.ptrace(16, pid, 0, 0)  # PTRACE_ATTACH
    elif what == 'traceme': libc.ptrace(0, 0, 0, 0)  # PTRACE_TRACEME: about itself
    else:
        buf = ctypes.create_string_buffer(8)
        class iovec(ctypes.Structure): _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
        local = iovec(ctypes.addressof(buf), 8); remote = iovec(0, 8)
        libc.process_vm_writev(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    os.kill(pid, 9); os.waitpid(pid, 0)
elif what == 'finit_module': libc.syscall(313, -1, b'', 0)
elif what == 'kexec_file_load': libc.syscall(320, -1, -1, 0, b'', 0)
elif what == 'bpf': libc.syscall(321, 5, None, 0)
elif what == 'clone_newuser':
    r = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)
    if r == 0: os._exit(0)
    if r > 0: os.waitpid(r, 0)
elif what in ('open_by_handle', 'name_to_handle'):
    class handle(ctypes.Structure): _fields_ = [('size', ctypes.c_uint), ('type', ctypes.c_int), ('bytes', ctypes.c_ubyte * 128)]
    h = handle(128, 0); mount = ctypes.c_int()
    libc.name_to_handle_at(-100, b'/etc/hostname', ctypes.byref(h), ctypes.byref(mount), 0)
    if what == 'open_by_handle': libc.open_by_handle_at(os.open('/etc', os.O_RDONLY), ctypes.byref(h), 0)
elif what == 'fork':
    r = os.fork()
    if r == 0: os._exit(0)
    os.waitpid(r, 0)
elif what == 'connect6':
    import socket
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try: s.connect((sys.argv[2], 80))
    except OSError: pass
`;

const PACK_RULES = loadRules([AGENT_TOOLS_RULES])
  .rules.filter((r) => r.enabled)
  .map((r) => r.name);

interface Case {
  rule: string;
  trips: string[][];
  quiet: string[][];
  noNetwork?: boolean;
  skip?: boolean;
}

describe.skipIf(!hasStrace)('agent-tools rule pack on real traces', () => {
  let dir: string;
  let home: string;
  let server: Server;
  let port: number;
  const table: string[] = [];

  const env = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: home, LANG: 'C' });
  const sh = (script: string): string[] => ['sh', '-c', script];

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'syscan-pack-')));
    home = join(dir, 'home');
    const files: Record<string, string> = {
      '.ssh/id_rsa': 'not a key\n',
      '.ssh/id_rsa.pub': 'ssh-rsa AAAA test\n',
      '.ssh/known_hosts': '',
      '.ssh/authorized_keys': '',
      '.aws/credentials': '[default]\n',
      '.aws/config': '[default]\n',
      '.kube/config': 'apiVersion: v1\n',
      '.config/gcloud/credentials.db': '',
      '.config/gcloud/active_config': 'default\n',
      '.config/google-chrome/Default/Cookies': '',
      '.config/google-chrome/Default/Preferences': '{}',
      '.mozilla/firefox/abc.default/logins.json': '{}',
      '.config/systemd/user/.keep': '',
      '.bashrc': 'a\n',
      'project/.env': 'KEY=1\n',
      'project/.env.example': 'KEY=\n',
      'project/package.json': '{"name":"p","version":"1.0.0","scripts":{"test":"echo ok"}}',
      'project/Makefile': 'all:\n\t@echo built\n',
      'tool.py': CTYPES,
      'build/hello.c': 'int main(void) { return 0; }\n',
      'build/Makefile': 'all: hello\n\t./hello\nhello: hello.c\n\tcc -o hello hello.c\n',
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(home, path, '..'), { recursive: true });
      writeFileSync(join(home, path), text);
    }
    // Programs that call themselves after trusted tools (a repository's ./ssh): python under
    // the names the pack lets read secrets or start shells. Made before the run, so no rule
    // on files the run wrote sees them.
    mkdirSync(join(home, 'bin'));
    for (const name of ['ssh', 'ps', 'bash', 'tar', 'firefox']) symlinkSync(PY, join(home, 'bin', name));
    spawnSync('git', ['init', '-q', join(home, 'repo')]);
    server = createServer((_req, res) => res.end('ok\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(() => {
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (process.env.RULES_HIT_TABLE === '1')
      console.log(['| rule | command | hits |', '|---|---|---|', ...table].join('\n'));
  });

  const tool = (what: string, ...rest: string[]): string[] => [PY, join(home, 'tool.py'), what, ...rest];
  /** Python called `name` from ~/bin, running `code`: trusted by name, not by where it lives. */
  const namedAs = (name: string, code: string): string[] => [join(home, 'bin', name), '-c', code];
  const nobody = (script: string): string[] => [
    'setpriv',
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    'sh',
    '-c',
    script,
  ];

  const cases = (): Case[] => [
    {
      rule: 'Read SSH private key',
      // The last one through a symlink the command made itself (no strace -y needed).
      trips: [
        ['cat', `${home}/.ssh/id_rsa`],
        sh('cat ~/.ssh/id_ed25519 2>/dev/null; true'),
        sh('ln -sf ~/.ssh/id_rsa ./k && cat ./k'),
        namedAs('ssh', `open('${home}/.ssh/id_rsa').read()`),
      ],
      quiet: [
        ['cat', `${home}/.ssh/id_rsa.pub`],
        ['cat', `${home}/.ssh/known_hosts`],
        // The real ssh-keygen, from /usr/bin, reading the private key it is pointed at.
        sh('ssh-keygen -y -f ~/.ssh/id_rsa >/dev/null 2>&1; true'),
      ],
    },
    {
      rule: 'Read cloud or cluster credentials',
      trips: [
        ['cat', `${home}/.aws/credentials`],
        ['cat', `${home}/.kube/config`],
        [PY, '-c', `open('${home}/.config/gcloud/credentials.db').read()`],
      ],
      quiet: [
        ['cat', `${home}/.aws/config`],
        ['ls', `${home}/.config`],
      ],
    },
    {
      rule: 'Read dotenv file',
      trips: [sh('cd ~/project && cat .env'), sh(`cd ~/project && ~/bin/tar -c "open('.env').read()"`)],
      quiet: [sh('cd ~/project && cat .env.example && ls -a'), sh('cd ~/project && tar -cf /dev/null .env')],
    },
    {
      rule: 'Read shadow password file',
      trips: [['cat', '/etc/shadow']],
      quiet: [['cat', '/etc/passwd'], ['id']],
    },
    {
      rule: 'Read process environment or memory',
      trips: [
        ['cat', '/proc/self/environ'],
        sh('cat /proc/1/environ >/dev/null 2>&1; true'),
        namedAs('ps', "open('/proc/self/environ').read()"),
      ],
      quiet: [
        ['cat', '/proc/self/status'],
        ['ps', '-o', 'pid,comm'],
      ],
    },
    {
      rule: 'Read browser cookie or login store',
      trips: [
        ['cat', `${home}/.config/google-chrome/Default/Cookies`],
        ['cat', `${home}/.mozilla/firefox/abc.default/logins.json`],
        namedAs('firefox', `open('${home}/.mozilla/firefox/abc.default/logins.json').read()`),
      ],
      quiet: [['cat', `${home}/.config/google-chrome/Default/Preferences`]],
    },
    {
      rule: 'Modify shell startup file',
      trips: [
        sh('echo "alias ls=rm" >> ~/.bashrc'),
        ['sed', '-i', 's/a/b/', `${home}/.bashrc`],
        sh('ln -sf /tmp/evil.sh ~/.zshrc'),
      ],
      quiet: [['cat', `${home}/.bashrc`], sh('echo hi > ~/notes.txt')],
    },
    {
      rule: 'Modify crontab',
      // As nobody, so the write can only fail, whatever cron this machine has.
      trips: [
        nobody(
          'echo "* * * * * id" > /etc/cron.d/syscan-test; echo x > /var/spool/cron/crontabs/nobody; true',
        ),
      ],
      quiet: [['cat', '/etc/hostname'], nobody('ls /etc/cron.d >/dev/null; true')],
    },
    {
      rule: 'Modify SSH authorized keys',
      trips: [sh('echo "ssh-ed25519 AAAA evil" >> ~/.ssh/authorized_keys')],
      quiet: [['cat', `${home}/.ssh/authorized_keys`], sh('echo x > ~/.ssh/notes')],
    },
    {
      rule: 'Create or modify systemd unit',
      trips: [sh('printf "[Service]\\nExecStart=/bin/true\\n" > ~/.config/systemd/user/evil.service')],
      quiet: [['ls', `${home}/.config/systemd/user`]],
    },
    {
      rule: 'Create or modify git hook',
      trips: [
        sh('cd ~/repo && echo "#!/bin/sh" > .git/hooks/pre-commit'),
        sh(
          'cd ~/repo && cp .git/hooks/pre-push.sample /tmp/syscan-hook.$$ && mv /tmp/syscan-hook.$$ .git/hooks/pre-push',
        ),
      ],
      quiet: [['git', 'init', '-q', join(home, 'repo2')], sh('cd ~/repo && git status --short')],
    },
    {
      rule: 'Shell spawned by a non-shell program',
      trips: [[PY, '-c', "import os; os.system('true')"], namedAs('bash', "import os; os.system('true')")],
      quiet: [sh('ls >/dev/null'), ['make', '-s', '-C', join(home, 'project')]],
    },
    {
      rule: 'Raw network tool executed',
      skip: !hasNc,
      trips: [['nc', '-z', '-w', '1', '127.0.0.1', String(1)]],
      quiet: [['getent', 'hosts', 'localhost']],
      noNetwork: true,
    },
    {
      rule: 'Remote access tool executed',
      trips: [['ssh', '-V']],
      quiet: [['ssh-keygen', '-l', '-f', `${home}/.ssh/id_rsa.pub`]],
    },
    {
      rule: 'Download tool connected off the host',
      trips: [['curl', '-s', '-m', '2', 'http://192.0.2.10/']],
      quiet: [['curl', '-s', '-m', '2', `http://127.0.0.1:${port}/`]],
      noNetwork: true,
    },
    {
      rule: 'Executed a file this run wrote',
      trips: [sh('cp /bin/true ./t1 && ./t1'), sh('printf "#!/bin/sh\\n" > t2 && chmod +x t2 && ./t2')],
      quiet: [sh('cp /bin/true ./t3 && /bin/true'), sh('printf "#!/bin/sh\\n" > t4 && sh t4')],
    },
    {
      rule: 'Connect to cloud metadata service',
      trips: [
        ['curl', '-s', '-m', '2', 'http://169.254.169.254/latest/meta-data/'],
        tool('connect6', 'fd00:ec2::254'),
      ],
      quiet: [['curl', '-s', '-m', '2', 'http://169.254.169.253/'], tool('connect6', 'fd00:ec2::253')],
      noNetwork: true,
    },
    {
      rule: 'Ptrace or memory access of another process',
      trips: [tool('ptrace'), tool('vm_writev')],
      quiet: [tool('traceme')],
    },
    {
      rule: 'Namespace or mount change',
      trips: [
        ['unshare', '-U', 'true'],
        ['unshare', '-m', 'true'],
      ],
      quiet: [['ls', '/proc/self/ns']],
    },
    { rule: 'Process created in new namespaces', trips: [tool('clone_newuser')], quiet: [tool('fork')] },
    {
      rule: 'File opened by handle',
      // name_to_handle_at alone (systemd, NFS servers) only names a file.
      trips: [tool('open_by_handle')],
      quiet: [tool('name_to_handle'), ['cat', '/etc/hostname']],
    },
    {
      rule: 'Kernel code load',
      trips: [tool('finit_module'), tool('kexec_file_load'), tool('bpf')],
      quiet: [['cat', '/proc/modules']],
    },
  ];

  it('the pack loads without warnings', () => {
    expect(loadRules([AGENT_TOOLS_RULES]).warnings).toEqual([]);
  });

  it('the shipped .generated.ts holds the .yaml text', () => {
    const yaml = readFileSync(new URL('../src/rules/packs/agent-tools.yaml', import.meta.url), 'utf8');
    // Run `node packages/core/scripts/gen-rule-packs.mjs` after editing the .yaml.
    expect(AGENT_TOOLS_RULES.text).toBe(yaml);
  });

  it('stays silent on everyday commands', () => {
    const work = mkdtempSync(join(dir, 'everyday-'));
    const everyday: string[][] = [
      ['ls', '-la', home],
      sh(`cd ${home}/repo && git status --short && git log --oneline -1 2>/dev/null; true`),
      [PY, '-c', 'import json, os; print(json.dumps(sorted(os.listdir("."))))'],
      [process.execPath, '-e', 'console.log(require("node:os").cpus().length)'],
      ['make', '-s', '-C', join(home, 'build')],
      sh(`tar czf ${work}/p.tgz -C ${home} project && tar tzf ${work}/p.tgz >/dev/null`),
      ['cp', '-r', join(home, 'project'), join(work, 'copy')],
      ['curl', '-s', '-m', '2', `http://127.0.0.1:${port}/`],
      sh(`grep -r KEY ${home}/project/.env.example | wc -l; find ${home}/project -name '*.py' | sort`),
    ];
    if (has('npm')) everyday.push(sh(`cd ${home}/project && npm test --silent`));
    for (const argv of everyday) {
      const alerts = ruleAlerts(traceCommand(argv, { cwd: work, env: env() }));
      table.push(
        `| (everyday) | \`${argv.join(' ').replace(home, '~').replace(/\|/g, '\\|')}\` | ${alerts.length} |`,
      );
      expect([argv.join(' '), alerts.map((a) => `${a.rule}: ${a.message}`)]).toEqual([argv.join(' '), []]);
    }
  });

  it('with an egress allow-list, alerts on connects outside it only', () => {
    const sources = [AGENT_TOOLS_RULES, egressAllowListRules(['192.0.2.0/24', '2001:db8::/32'])];
    const egress = (url: string): number =>
      ruleAlerts(
        traceCommand(['curl', '-s', '-m', '2', url], { cwd: dir, env: env(), noNetwork: true }),
        sources,
      ).filter((a) => a.rule === EGRESS_RULE).length;
    expect(egress('http://198.51.100.7/')).toBeGreaterThan(0);
    expect(egress('http://192.0.2.10/')).toBe(0);
    expect(egress(`http://127.0.0.1:${port}/`)).toBe(0);
    expect(ruleAlerts('', [AGENT_TOOLS_RULES]).length).toBe(0);
    expect(() => egressAllowListRules(['10.0.0.0/33'])).toThrow(
      /'10\.0\.0\.0\/33' is not an IP address or CIDR range/,
    );
  });

  it('strace -X raw prints the ptrace request as a number (0x10): the rule still reads it as PTRACE_ATTACH', () => {
    const work = mkdtempSync(join(dir, 'raw-'));
    const trace = (argv: readonly string[]) =>
      traceCommand(argv, { cwd: work, env: env(), straceArgs: ['-X', 'raw'] });
    const attach = trace(tool('ptrace'));
    expect(attach).toMatch(/ptrace\(0x10, \d+/);
    const alerts = ruleAlerts(attach).filter((a) => a.rule === 'Ptrace or memory access of another process');
    expect(alerts[0]?.message).toContain('request=PTRACE_ATTACH');
    expect(
      ruleAlerts(trace(tool('traceme'))).filter(
        (a) => a.rule === 'Ptrace or memory access of another process',
      ),
    ).toEqual([]);
  });

  for (const name of PACK_RULES) {
    it(name, () => {
      const c = cases().find((x) => x.rule === name);
      expect(c, `no case for ${name}`).toBeDefined();
      if (c === undefined || c.skip) return;
      // A machine without one of the tools (ssh, curl, unshare, …) cannot show its trace.
      const absent = [...c.trips, ...c.quiet].map((argv) => argv[0]!).filter((bin) => !has(bin));
      if (absent.length > 0) {
        console.warn(`[syscan] ${name}: ${[...new Set(absent)].join(', ')} not installed; case skipped`);
        return;
      }
      const work = mkdtempSync(join(dir, 'work-'));
      const opts = { cwd: work, env: env(), noNetwork: c.noNetwork ?? false };
      for (const argv of c.trips) {
        const alerts = ruleAlerts(traceCommand(argv, opts)).filter((a) => a.rule === name);
        table.push(
          `| ${name} | trips: \`${argv.join(' ').replace(home, '~').replace(/\|/g, '\\|')}\` | ${alerts.length} |`,
        );
        expect([argv.join(' '), alerts.length > 0]).toEqual([argv.join(' '), true]);
        expect(alerts[0]!.message).not.toBe('');
      }
      for (const argv of c.quiet) {
        const alerts = ruleAlerts(traceCommand(argv, opts)).filter((a) => a.rule === name);
        table.push(
          `| ${name} | quiet: \`${argv.join(' ').replace(home, '~').replace(/\|/g, '\\|')}\` | ${alerts.length} |`,
        );
        expect([argv.join(' '), alerts.map((a) => `${a.rule}: ${a.message}`)]).toEqual([argv.join(' '), []]);
      }
    });
  }
});
