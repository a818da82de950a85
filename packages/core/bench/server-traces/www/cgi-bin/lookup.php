<?php
// Host lookup tool: runs getent (the command injection the reverse-shell, stager and
// adduser attacks use: host is not escaped).
$host = $_GET['host'] ?? 'localhost';
$out = shell_exec('getent hosts ' . $host);
echo '<pre>' . htmlspecialchars($out ?? "unknown host\n") . "</pre>\n";
