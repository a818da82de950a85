"""FTP client load for sequence-server-traces.mjs (runs untraced; the server is traced).

usage: python3 ftp_client.py normal PORT USER PASSWORD SEED SESSIONS
       python3 ftp_client.py brute  PORT USER SEED ATTEMPTS PARALLEL

normal: sessions of a successful login doing a seeded mix of LIST/NLST/CWD/PWD/SIZE/RETR/STOR/
DELE/MKD/RMD (some of them failing: missing files), one session (the middle one) with a wrong
password first. brute: ATTEMPTS wrong passwords from PARALLEL connections, as a password-guessing tool
does (a new connection when the server drops one after its max_login_fails).
"""
import ftplib
import io
import random
import sys
import threading


def connect(port):
    f = ftplib.FTP(timeout=20)
    f.connect('127.0.0.1', port)
    return f


def session(port, user, password, rnd, mistype):
    f = connect(port)
    if mistype:
        try:
            f.login(user, password + 'x')
        except ftplib.error_perm:
            pass
    f.login(user, password)
    for _ in range(rnd.randint(1, 6)):
        op = rnd.choice(['list', 'nlst', 'pwd', 'cwd', 'size', 'retr', 'stor', 'stor', 'dele', 'mkd', 'missing'])
        try:
            if op == 'list':
                f.retrlines('LIST', lambda _line: None)
            elif op == 'nlst':
                f.nlst()
            elif op == 'pwd':
                f.pwd()
            elif op == 'cwd':
                f.cwd(rnd.choice(['docs', '.', '..', 'nope']))
                f.cwd('~')
            elif op == 'size':
                f.size(f'file{rnd.randint(0, 5)}.txt')
            elif op == 'retr':
                f.retrbinary(f'RETR file{rnd.randint(0, 5)}.txt', lambda _b: None)
            elif op == 'stor':
                data = (f'line {rnd.random()}\n' * rnd.randint(1, 400)).encode()
                f.storbinary(f'STOR file{rnd.randint(0, 5)}.txt', io.BytesIO(data))
            elif op == 'dele':
                f.delete(f'file{rnd.randint(0, 5)}.txt')
            elif op == 'mkd':
                name = f'dir{rnd.randint(0, 3)}'
                f.mkd(name)
                f.rmd(name)
            else:
                f.retrbinary('RETR missing.bin', lambda _b: None)
        except ftplib.error_perm:
            pass
    f.quit()


def brute(port, user, guesses):
    f = None
    for guess in guesses:
        try:
            if f is None:
                f = connect(port)
            f.login(user, guess)
        except ftplib.error_perm:
            pass
        except (EOFError, OSError, ftplib.Error):
            f = None
    if f is not None:
        try:
            f.quit()
        except Exception:
            pass


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == 'normal':
        user, password, seed, sessions = sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
        rnd = random.Random(seed)
        for i in range(sessions):
            session(port, user, password, rnd, i == sessions // 2)
    else:
        user, seed, attempts, parallel = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
        rnd = random.Random(seed)
        words = ['123456', 'password', 'qwerty', 'letmein', 'admin', 'welcome', 'monkey', 'dragon', 'master', 'root']
        guesses = [rnd.choice(words) + str(rnd.randint(0, 99)) for _ in range(attempts)]
        threads = [threading.Thread(target=brute, args=(port, user, guesses[i::parallel])) for i in range(parallel)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


main()
