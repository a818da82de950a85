// The traced servers of sequence-server-traces.mjs: a throwaway workspace (a user `alice`
// with a known password in private copies of /etc/passwd, shadow and group, bind-mounted in
// a mount namespace of the server only, so the host's files are never changed; an sshd host
// key; configs), and each server started under `strace -f -o FILE` and stopped again.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const USER = 'alice';
export const PASSWORD = 'alice-bench-pw';
const UID = 5000;
const NOBODY = 65534;

const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.error?.message ?? r.stderr.trim()}`);
  return r.stdout;
};

/** A free TCP port on 127.0.0.1 (the kernel's choice; closed again before use). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** What the servers need, under `root`: private /etc files, home, docroot, configs. */
export async function makeWorkspace(root) {
  const etc = join(root, 'etc');
  const home = join(root, 'home', USER);
  mkdirSync(etc, { recursive: true });
  mkdirSync(join(home, 'docs'), { recursive: true });
  mkdirSync(join(root, 'empty'), { recursive: true });
  const hash = run('openssl', ['passwd', '-6', '-salt', 'syscanbench', PASSWORD]).trim();
  const read = (f) => readFileSync(`/etc/${f}`, 'utf8').replace(/\n?$/, '\n');
  writeFileSync(join(etc, 'passwd'), `${read('passwd')}${USER}:x:${UID}:${UID}:Alice:${home}:/bin/bash\n`);
  writeFileSync(join(etc, 'shadow'), `${read('shadow')}${USER}:${hash}:19000:0:99999:7:::\n`);
  writeFileSync(join(etc, 'group'), `${read('group')}${USER}:x:${UID}:\n`);
  chmodSync(join(etc, 'shadow'), 0o640);
  for (let i = 0; i < 6; i++) writeFileSync(join(home, `file${i}.txt`), `data ${i}\n`.repeat(40 * (i + 1)));
  writeFileSync(join(home, 'docs', 'notes.md'), '# notes\n- backup on friday\n');
  run('chown', ['-R', `${UID}:${UID}`, home]);
  // Mount namespace entry: the private /etc files over the host's, then the server.
  const serve = join(root, 'serve.sh');
  const binds = ['passwd', 'shadow', 'group'].map((f) => `mount --bind ${join(etc, f)} /etc/${f}`);
  writeFileSync(serve, `#!/bin/sh\nset -e\n${binds.join('\n')}\nexec "$@"\n`, { mode: 0o755 });
  const key = join(root, 'ssh_host_ed25519_key');
  if (!existsSync(key)) run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege separation directory
  // The web app: docroot copy, its data, an upload directory the CGI user (nobody) may write.
  const www = join(root, 'www');
  cpSync(join(here, 'www'), www, { recursive: true });
  mkdirSync(join(www, 'data'), { recursive: true });
  mkdirSync(join(www, 'cgi-bin', 'files'), { recursive: true });
  const names = ['lamp', 'chair', 'desk', 'pen', 'mug', 'shelf', 'clock', 'rug', 'kettle', 'fan'];
  const items = Array.from(
    { length: 60 },
    (_, i) => `${i}|${names[i % 10]} ${i}|${(3 + i * 1.7).toFixed(2)}`,
  );
  writeFileSync(join(www, 'data', 'items.txt'), `${items.join('\n')}\n`);
  const sha = (s) => run('sh', ['-c', `printf %s '${s}' | sha256sum | cut -d' ' -f1`]).trim();
  writeFileSync(join(www, 'data', 'users.txt'), `bob:${sha('bobpw')}\ncarol:${sha('carolpw')}\n`);
  writeFileSync(join(www, 'data', 'guestbook.txt'), '');
  for (const p of ['data', 'data/guestbook.txt', 'cgi-bin/files']) chownSync(join(www, p), NOBODY, NOBODY);
  // The adduser attack's victim: a copy of /etc the CGI user can write (useradd --prefix).
  const victim = join(root, 'victim');
  mkdirSync(join(victim, 'etc'), { recursive: true });
  mkdirSync(join(victim, 'home'), { recursive: true });
  for (const f of ['passwd', 'group', 'shadow', 'gshadow', 'login.defs']) {
    if (existsSync(`/etc/${f}`)) cpSync(`/etc/${f}`, join(victim, 'etc', f));
  }
  writeFileSync(join(victim, 'etc', 'sudoers'), 'root ALL=(ALL:ALL) ALL\n');
  run('chown', ['-R', `${NOBODY}:${NOBODY}`, victim]);
  return { root, home, www, victim, serve, key };
}

function sshdConfig(ws, port) {
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${ws.key}`,
    `PidFile ${join(ws.root, 'sshd.pid')}`,
    'UsePAM yes',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin no',
    'StrictModes no',
    'MaxAuthTries 6',
    'MaxStartups 100',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

function vsftpdConfig(ws, port) {
  return [
    'listen=YES',
    'listen_address=127.0.0.1',
    `listen_port=${port}`,
    'background=NO',
    'anonymous_enable=NO',
    'local_enable=YES',
    'write_enable=YES',
    'local_umask=022',
    // No seccomp sandbox nor network namespace: this container forbids them; the per-session
    // process split (privileged parent, unprivileged child) stays.
    'seccomp_sandbox=NO',
    'isolate=NO',
    'isolate_network=NO',
    'pasv_enable=YES',
    'pasv_address=127.0.0.1',
    `secure_chroot_dir=${join(ws.root, 'empty')}`,
    'pam_service_name=vsftpd',
    'xferlog_enable=NO',
    'max_login_fails=3',
    'max_clients=200',
    '',
  ].join('\n');
}

/** The command line of each server listening on `port`. */
function commandOf(kind, ws, port) {
  if (kind === 'ssh') {
    const conf = join(ws.root, `sshd-${port}.conf`);
    writeFileSync(conf, sshdConfig(ws, port));
    return ['/usr/sbin/sshd', '-D', '-e', '-f', conf];
  }
  if (kind === 'ftp') {
    const conf = join(ws.root, `vsftpd-${port}.conf`);
    writeFileSync(conf, vsftpdConfig(ws, port));
    return ['/usr/sbin/vsftpd', conf];
  }
  return ['/usr/bin/python3', join(here, 'web_server.py'), String(port), ws.www];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForPort(port, ms) {
  const { connect } = await import('node:net');
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`server on port ${port} did not start in ${ms} ms`);
}

const running = new Set();
// Interrupted (^C): end the daemons still traced, so none is left listening.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const server of running) server.kill();
    process.exit(130);
  });
}

/**
 * Starts server `kind` ('ssh' | 'ftp' | 'web') under `strace -f -o out`; resolves when it
 * listens. `stop()` ends the server (SIGTERM to the daemon, the tracer follows) and resolves
 * when strace has written everything.
 */
export async function startTraced(kind, ws, out) {
  const port = await freePort();
  const argv = commandOf(kind, ws, port);
  const log = [];
  const tracer = spawn('unshare', ['--mount', ws.serve, 'strace', '-f', '-s', '32', '-o', out, ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  tracer.stderr.on('data', (d) => log.push(d));
  const exited = new Promise((resolve) => tracer.once('exit', resolve));
  try {
    await waitForPort(port, 15_000);
  } catch (error) {
    tracer.kill('SIGKILL');
    throw new Error(`${kind}: ${error.message}: ${Buffer.concat(log).toString().slice(-400)}`);
  }
  const daemon = () => {
    // unshare and serve.sh exec, so the spawned pid is strace's; the daemon is its child.
    const children = readFileSync(`/proc/${tracer.pid}/task/${tracer.pid}/children`, 'utf8').trim();
    return Number(children.split(/\s+/)[0]);
  };
  const signal = (name) => {
    let pid;
    try {
      pid = daemon();
    } catch {}
    if (pid > 0) process.kill(pid, name);
  };
  const entry = { kill: () => signal('SIGKILL') };
  running.add(entry);
  const stop = async () => {
    signal('SIGTERM');
    // A daemon that ignores SIGTERM gets SIGKILL; a tracer still waiting (on a session child
    // that did not end) 5 s later is killed too (its tracees are then detached, not killed).
    const timers = [
      setTimeout(() => signal('SIGKILL'), 10_000),
      setTimeout(() => tracer.exitCode === null && tracer.kill('SIGKILL'), 15_000),
    ];
    await exited;
    for (const t of timers) clearTimeout(t);
    running.delete(entry);
  };
  return { port, stop };
}
