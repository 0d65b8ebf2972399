"""A local HTTP server for the downloader's tests, with fault injection.

Usage: fault_server.py ROOT FAULTS.json REQUEST_LOG
Serves files under ROOT on 127.0.0.1 (a free port, printed as the first stdout line).
FAULTS maps a URL path to a list of behaviours used one per request (the last repeats):
ok, 404, 500, 503, reset (connection reset mid-body), short (body cut, clean close),
html (an HTML page instead of the file), slow (headers, then a 5 s stall).
Every request's path is appended to REQUEST_LOG. Range requests get 206.
"""
import json
import os
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT, FAULTS_PATH, LOG_PATH = sys.argv[1], sys.argv[2], sys.argv[3]
with open(FAULTS_PATH) as f:
    FAULTS = json.load(f)
COUNTS = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        with LOCK:
            with open(LOG_PATH, "a") as log:
                log.write(path + "\n")
            plan = FAULTS.get(path, ["ok"])
            n = COUNTS.get(path, 0)
            COUNTS[path] = n + 1
        behaviour = plan[min(n, len(plan) - 1)]
        local = os.path.normpath(os.path.join(ROOT, path.lstrip("/")))
        if not local.startswith(os.path.abspath(ROOT)) or not os.path.isfile(local):
            behaviour = "404"
        if behaviour in ("404", "500", "503"):
            body = b"error\n"
            self.send_response(int(behaviour))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if behaviour == "html":
            body = b"<html><body>Please log in to the network</body></html>\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        with open(local, "rb") as f:
            data = f.read()
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
        if start > 0:
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
            data = data[start:]
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if behaviour == "slow":
            self.wfile.flush()
            time.sleep(5)
        if behaviour in ("reset", "short"):
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            if behaviour == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        self.wfile.write(data)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
