<?php
// Guestbook: POST appends a message (locked), GET shows the last ones.
$book = __DIR__ . '/../data/guestbook.txt';
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
  $msg = str_replace("\n", ' ', substr($_POST['msg'] ?? '', 0, 200));
  file_put_contents($book, date('c') . ' ' . ($_POST['name'] ?? 'anon') . ": $msg\n", FILE_APPEND | LOCK_EX);
  echo "thanks\n";
  exit;
}
$lines = is_file($book) ? file($book) : [];
foreach (array_slice($lines, -20) as $l) echo htmlspecialchars($l) . "<br>\n";
