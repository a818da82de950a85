<?php
// One item by id; 404 when there is none.
$id = intval($_GET['id'] ?? -1);
foreach (file(__DIR__ . '/../data/items.txt', FILE_IGNORE_NEW_LINES) as $line) {
  $f = explode('|', $line);
  if (intval($f[0]) === $id) {
    header('Content-Type: text/html');
    echo '<h1>' . htmlspecialchars($f[1]) . '</h1><p>price ' . $f[2] . '</p><p>' . date('c') . "</p>\n";
    exit;
  }
}
http_response_code(404);
echo "no such item\n";
