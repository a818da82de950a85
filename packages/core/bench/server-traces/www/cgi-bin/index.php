<?php
// Catalogue front page: the items, newest first, and the uploaded files.
$items = file(__DIR__ . '/../data/items.txt', FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES);
$page = max(0, intval($_GET['page'] ?? 0));
echo "<html><head><title>Catalogue</title><link rel=stylesheet href=/style.css></head><body><ul>\n";
foreach (array_slice(array_reverse($items), $page * 10, 10) as $line) {
  [$id, $name, $price] = explode('|', $line);
  printf("<li><a href=view.php?id=%d>%s</a> %.2f</li>\n", $id, htmlspecialchars($name), $price);
}
echo "</ul><h2>Files</h2><ul>";
foreach (scandir(__DIR__ . '/files') as $f) if ($f[0] !== '.') echo '<li>' . htmlspecialchars($f) . '</li>';
echo "</ul></body></html>\n";
