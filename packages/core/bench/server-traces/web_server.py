"""A small web server standing in for Apache + mod_cgi + PHP: static files from DOCROOT,
`*.php` under /cgi-bin/ run as CGI (fork + exec php-cgi as nobody, request body on stdin),
one thread per connection. Traced by sequence-server-traces.mjs; not for any other use.

usage: python3 web_server.py PORT DOCROOT
"""
import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

PORT = int(sys.argv[1])
DOCROOT = os.path.realpath(sys.argv[2])
NOBODY = 65534
TYPES = {'.html': 'text/html', '.css': 'text/css', '.txt': 'text/plain', '.png': 'image/png'}


class Handler(BaseHTTPRequestHandler):
    server_version = 'bench-httpd/1.0'

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def dispatch(self):
        url = urlsplit(self.path)
        path = os.path.realpath(os.path.join(DOCROOT, unquote(url.path).lstrip('/')))
        if not path.startswith(DOCROOT) or not os.path.isfile(path):
            return self.send_error(404)
        if url.path.startswith('/cgi-bin/') and path.endswith('.php'):
            return self.cgi(path, url)
        with open(path, 'rb') as f:
            body = f.read()
        self.send_response(200)
        self.send_header('Content-Type', TYPES.get(os.path.splitext(path)[1], 'application/octet-stream'))
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def cgi(self, path, url):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length > 0 else b''
        env = {
            'GATEWAY_INTERFACE': 'CGI/1.1',
            'SERVER_SOFTWARE': self.server_version,
            'SERVER_NAME': '127.0.0.1',
            'SERVER_PORT': str(PORT),
            'SERVER_PROTOCOL': 'HTTP/1.1',
            'REQUEST_METHOD': self.command,
            'SCRIPT_FILENAME': path,
            'SCRIPT_NAME': url.path,
            'QUERY_STRING': url.query,
            'REMOTE_ADDR': self.client_address[0],
            'CONTENT_LENGTH': str(length),
            'CONTENT_TYPE': self.headers.get('Content-Type') or '',
            'REDIRECT_STATUS': '200',
            'PATH': '/usr/local/bin:/usr/bin:/bin',
        }
        run = subprocess.run(
            ['/usr/bin/php-cgi'], input=body, env=env, cwd=os.path.dirname(path),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, user=NOBODY, group=NOBODY,
            extra_groups=[], timeout=30,
        )
        head, _, content = run.stdout.partition(b'\r\n\r\n')
        status = 200
        headers = []
        for line in head.decode('latin-1').split('\r\n'):
            name, _, value = line.partition(':')
            if name.lower() == 'status':
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(content)))
        self.end_headers()
        self.wfile.write(content)


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(('127.0.0.1', PORT), Handler).serve_forever()
