<?php
// File upload: stores the file under files/ with its own name (the vulnerability the web
// shell attack uses: a .php there is run by the server).
if (!isset($_FILES['file'])) { http_response_code(400); echo "no file\n"; exit; }
$name = basename($_FILES['file']['name']);
if (!move_uploaded_file($_FILES['file']['tmp_name'], __DIR__ . '/files/' . $name)) {
  http_response_code(500); echo "upload failed\n"; exit;
}
echo "stored $name (" . filesize(__DIR__ . '/files/' . $name) . " bytes)\n";
