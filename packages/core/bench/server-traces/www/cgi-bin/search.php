<?php
// Items whose name matches q (case-insensitive), as JSON.
$q = $_GET['q'] ?? '';
$items = file(__DIR__ . '/../data/items.txt', FILE_IGNORE_NEW_LINES);
$hits = preg_grep('/' . preg_quote($q, '/') . '/i', $items);
header('Content-Type: application/json');
echo json_encode(array_values(array_map(fn($l) => explode('|', $l), $hits))) . "\n";
