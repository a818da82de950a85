<?php
// An uploaded file back, or 404.
$path = __DIR__ . '/files/' . basename($_GET['name'] ?? '');
if (!is_file($path)) { http_response_code(404); echo "not found\n"; exit; }
header('Content-Type: application/octet-stream');
header('Content-Length: ' . filesize($path));
readfile($path);
