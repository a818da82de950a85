<?php
// Login form check against data/users.txt (user:sha256); sets a session cookie.
$user = $_POST['user'] ?? '';
$pass = $_POST['pass'] ?? '';
foreach (file(__DIR__ . '/../data/users.txt', FILE_IGNORE_NEW_LINES) as $line) {
  [$u, $h] = explode(':', $line);
  if ($u === $user && hash_equals($h, hash('sha256', $pass))) {
    setcookie('session', bin2hex(random_bytes(16)));
    echo "welcome $user\n";
    exit;
  }
}
http_response_code(403);
echo "login failed\n";
