"""A small HTTP server on the standard library. GET / returns a JSON greeting."""
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"message": "Hello from kiln's Python example", "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def stop(signum, frame):
    print("python-http: got SIGTERM, goodbye", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8000"))
    signal.signal(signal.SIGTERM, stop)
    server = HTTPServer(("0.0.0.0", port), Handler)
    print(f"python-http listening on port {port}", flush=True)
    server.serve_forever()
