/**
 * A rules file written for Falco (its macro idioms: `evt.dir = <`, `fd.typechar='f'`,
 * `fd.num>=0`, `evt.is_open_read`, lists inside lists, `%user.name` in outputs) loads and
 * fires on a real strace trace; the rule that needs container fields is skipped with a
 * warning instead of silently matching or not.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../src/rules/index.js';
import { hasStrace, ruleAlerts, traceCommand } from './helpers/rule-trace.js';

const FALCO_STYLE = `
- required_engine_version: 0.26.0

- list: sensitive_file_names
  items: [/etc/shadow, /etc/sudoers, /etc/pam.conf, /etc/security/pwquality.conf]

- list: user_mgmt_binaries
  items: [login_binaries, passwd_binaries, shadowutils_binaries]

- list: login_binaries
  items: [login, systemd-logind, su, sudo]

- list: passwd_binaries
  items: [passwd, chpasswd, chage]

- list: shadowutils_binaries
  items: [useradd, userdel, usermod, groupadd, vipw]

- macro: open_read
  condition: (evt.type in (open,openat,openat2) and evt.is_open_read=true and fd.typechar='f' and fd.num>=0)

- macro: sensitive_files
  condition: >
    ((fd.name startswith /etc and fd.name in (sensitive_file_names)) or
     fd.directory in (/etc/sudoers.d, /etc/pam.d))

- macro: container
  condition: (container.id != host)

- macro: spawned_process
  condition: (evt.type in (execve, execveat) and evt.dir=<)

- rule: Read sensitive file untrusted
  desc: an attempt to read any sensitive file by a program not known to need it
  condition: >
    sensitive_files and open_read
    and not proc.name in (user_mgmt_binaries)
  exceptions:
    - name: proc_file
      fields: [proc.name, fd.name]
      comps: [=, =]
      values:
        - [head, /etc/sudoers]
  output: >
    Sensitive file opened for reading by non-trusted program (user=%user.name user_loginuid=%user.loginuid
    program=%proc.name command=%proc.cmdline file=%fd.name parent=%proc.pname gparent=%proc.aname[2])
  priority: WARNING
  tags: [filesystem, mitre_credential_access]

- rule: Netcat with exec
  desc: netcat asked to run a program for its peer
  condition: spawned_process and proc.name in (nc, ncat) and (proc.args contains "-e" or proc.args contains "-c")
  output: Netcat runs a program for its peer (command=%proc.cmdline parent=%proc.pname)
  priority: WARNING
  tags: [network, process, mitre_execution]

- rule: Terminal shell in container
  desc: a shell was used as the entrypoint/exec point into a container
  condition: spawned_process and container and proc.name = bash
  output: A shell was spawned in a container (user=%user.name container_id=%container.id)
  priority: NOTICE
  tags: [container, shell]
`;

const source = { name: 'falco_style_rules.yaml', text: FALCO_STYLE };

describe('a rules file written for Falco', () => {
  it('loads: unsupported rules skipped with a warning, unsupported output fields warned', () => {
    const { rules, warnings } = loadRules([source]);
    expect(rules.map((r) => r.name)).toEqual(['Read sensitive file untrusted', 'Netcat with exec']);
    // user.name is read (audit's ENRICHED and ausearch -i names); container.id is not.
    expect(warnings.map((w) => [w.code, w.rule])).toEqual([
      ['unsupported_field', 'Terminal shell in container'],
    ]);
    expect(warnings[0]!.message).toContain('container.id');
  });

  it.skipIf(!hasStrace)('fires as Falco would on a real trace', () => {
    const shadow = ruleAlerts(
      traceCommand(['sh', '-c', 'cat /etc/shadow >/dev/null; head -c1 /etc/sudoers >/dev/null 2>&1; true']),
      [source],
    );
    expect(shadow.map((a) => [a.rule, a.severity, a.paths?.[0]])).toEqual([
      ['Read sensitive file untrusted', 'medium', '/etc/shadow'],
    ]);
    expect(shadow[0]!.message).toMatch(
      /^Sensitive file opened for reading by non-trusted program \(user=<NA> user_loginuid=<NA>\s+program=cat command=cat \/etc\/shadow file=\/etc\/shadow parent=sh gparent=<NA>\)$/,
    );
    // A failed open is no read for Falco's open_read (fd.num < 0).
    expect(ruleAlerts(traceCommand(['cat', '/etc/pam.d/no-such-file']), [source])).toEqual([]);
    if (spawnSync('sh', ['-c', 'command -v nc']).status === 0) {
      const nc = ruleAlerts(traceCommand(['nc', '-h']), [source]);
      expect(nc).toEqual([]);
    }
  });
});
