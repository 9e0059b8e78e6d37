#!/usr/bin/env python3
"""Serves ui/ on 127.0.0.1 for the Chromium --app anchor of tests/bench.sh. index.html gets one
extra classic script that calls /__loaded when the page reports its first paint with its data in
(the `parley:shown` event of app.js: what Parley's "page loaded" trace marks);
each such call appends a timestamp (ns, CLOCK_REALTIME) to LOADED_FILE.
Usage: serve_ui.py UI_DIR LOADED_FILE   (prints the port on stdout)"""
import functools
import http.server
import sys
import time

ui_dir, loaded_file = sys.argv[1], sys.argv[2]
BEACON = b"<script>document.addEventListener('parley:shown', () => fetch('/__loaded'));</script>"


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/__loaded":
            with open(loaded_file, "a") as f:
                f.write(f"{time.time_ns()}\n")
            self.send_response(204)
            self.end_headers()
            return
        if self.path in ("/", "/index.html"):
            with open(f"{ui_dir}/index.html", "rb") as f:
                body = f.read().replace(b"</head>", BEACON + b"</head>", 1)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


Handler.extensions_map[".js"] = "text/javascript"
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=ui_dir))
print(server.server_address[1], flush=True)
server.serve_forever()
