"""A spec-validating proxy between libamc and amc-sandbox, for any
sandbox-backed test: every answer of an AMC operation that passes through it
is checked against Amazon's OpenAPI specs (tests/data/specs) in the response
shape the sandbox was started with (tests/tools/openapi_check.py, the checks
of the conformance test), and a run with any violation fails.

Why not Stoplight Prism: its current releases need Node.js 24 (engines
">=24.18.0") while Debian 12, what CI installs on, ships Node.js 18, and
Prism validates the wrapper schemas only, which every flat answer passes
vacuously. This proxy is the standard library's HTTP server around the
jsonschema checks the repository already pins (tests/requirements.txt).

Use it as a wrapper around a test command:

    python tests/tools/spec_proxy.py --shape wrapped -- COMMAND [ARG...]

It listens on 127.0.0.1 (a free port) and runs COMMAND with
    AMC_SPEC_PROXY=http://127.0.0.1:PORT
    AMC_TEST_RESPONSE_SHAPE=flat|wrapped
in its environment. A test fixture that sees AMC_SPEC_PROXY starts its
sandbox in that shape and gives the client, as its AMC endpoint,
    $AMC_SPEC_PROXY/upstream/<scheme>/<host>:<port>
(proxied_endpoint() below; tests/support/sandbox_fixture.cpp and the Python
fixtures do so). Login with Amazon and result downloads do not pass through
it: the spec does not define them. The upstream must be on loopback; its TLS
certificate is not verified (the sandbox's test CA is the fixture's).

Exit status: COMMAND's when it failed; else 1 when any answer violated the
spec, or when not a single answer was checked (a fixture that bypassed the
proxy would otherwise pass unchecked); else 0. The summary and every
violation go to stderr; --report FILE also writes them as JSON.

The proxy's own routes: GET /_spec_proxy/report ({"checked", "violations"})
and POST /_spec_proxy/reset, for tests of the proxy itself.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import urllib.parse
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from openapi_check import check_against_spec

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# Hop-by-hop headers (RFC 9110 7.6.1) and those the proxy sets itself.
NOT_FORWARDED = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


def proxied_endpoint(proxy_url: str, base_url: str) -> str:
    """The AMC endpoint that reaches `base_url` (https://127.0.0.1:PORT)
    through the proxy at `proxy_url`."""
    parts = urllib.parse.urlsplit(base_url)
    return f"{proxy_url.rstrip('/')}/upstream/{parts.scheme}/{parts.netloc}"


class Findings:
    """What the proxy saw: answers checked and violations, thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked = 0
        self.violations: list[str] = []

    def add(self, violation: str | None) -> None:
        with self.lock:
            self.checked += 1
            if violation is not None:
                self.violations.append(violation)

    def report(self) -> dict[str, Any]:
        with self.lock:
            return {"checked": self.checked, "violations": list(self.violations)}

    def reset(self) -> None:
        with self.lock:
            self.checked = 0
            self.violations.clear()


def check_answer(  # noqa: PLR0917 - one answer's parts
    method: str, path: str, status: int, headers: Any, body: bytes, shape: str
) -> str | None:
    """The violation in one answer of an AMC operation, or None."""
    try:
        document = json.loads(body)
    except ValueError:
        return f"{method} {path}: HTTP {status} answer is not JSON: {body[:120]!r}"
    try:
        check_against_spec(method, path, status, headers, document, shape)
    except AssertionError as problem:
        return f"{method} {path}: {problem}"
    return None


class ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, shape: str) -> None:
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.shape = shape
        self.findings = Findings()
        self.context = ssl.create_default_context()
        # Loopback only (checked per request); the sandbox's test CA is the fixture's.
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ProxyServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's
        # algorithm and the client's delayed ACK hold each answer ~40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.upstream: dict[tuple[str, str, int], http.client.HTTPConnection] = {}

    def finish(self) -> None:
        super().finish()
        for connection in self.upstream.values():
            connection.close()

    def connection_to(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        """A kept-alive connection to the upstream, one per client connection."""
        key = (scheme, host, port)
        if key not in self.upstream:
            if scheme == "https":
                self.upstream[key] = http.client.HTTPSConnection(
                    host, port, timeout=60, context=self.server.context
                )
            else:
                self.upstream[key] = http.client.HTTPConnection(host, port, timeout=60)
        return self.upstream[key]

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests carry bearer tokens in headers only, but stay quiet anyway

    def answer(self, status: int, document: Any, extra: dict[str, str] | None = None) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length) if length else b""
        if self.path == "/_spec_proxy/report":
            self.answer(200, self.server.findings.report())
            return
        if self.path == "/_spec_proxy/reset":
            self.server.findings.reset()
            self.answer(200, {})
            return
        parts = self.path.split("/", 4)  # "", "upstream", scheme, host:port, rest
        if len(parts) < 5 or parts[1] != "upstream" or parts[2] not in ("http", "https"):
            self.answer(
                404, {"code": "404", "details": "spec_proxy: use /upstream/<scheme>/<host>:<port>/<path>"}
            )
            return
        scheme, netloc, rest = parts[2], parts[3], "/" + parts[4]
        host, _, port = netloc.rpartition(":")
        if host not in LOOPBACK:
            self.answer(403, {"code": "403", "details": "spec_proxy forwards to loopback only"})
            return
        headers = {name: value for name, value in self.headers.items() if name.lower() not in NOT_FORWARDED}
        key = (scheme, host.strip("[]"), int(port))
        for attempt in (1, 2):
            connection = self.connection_to(*key)
            try:
                connection.request(self.command, rest, body=payload if payload else None, headers=headers)
                response = connection.getresponse()
                body = response.read()
                break
            except (OSError, http.client.HTTPException) as problem:
                # The upstream closed a kept-alive connection: once more on a new one.
                self.upstream.pop(key).close()
                if attempt == 2:
                    self.answer(502, {"code": "502", "details": f"spec_proxy: upstream failed: {problem}"})
                    return
        path = rest.split("?", 1)[0]
        if path.startswith("/amc/"):
            self.server.findings.add(
                check_answer(self.command, path, response.status, response.headers, body, self.server.shape)
            )
        self.send_response(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in NOT_FORWARDED:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any  # noqa: N815 - http.server's names


def start(shape: str) -> ProxyServer:
    """A proxy serving on its own thread; stop it with shutdown()."""
    server = ProxyServer(shape)
    threading.Thread(target=server.serve_forever, name="spec_proxy", daemon=True).start()
    return server


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shape", choices=["flat", "wrapped"], default="flat")
    parser.add_argument("--report", help="also write the findings to this file as JSON")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG...]")
    options = parser.parse_args(argv)
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    if not command:
        parser.error("give the test command after --")
    server = start(options.shape)
    environment = dict(os.environ, AMC_SPEC_PROXY=server.url, AMC_TEST_RESPONSE_SHAPE=options.shape)
    try:
        status = subprocess.call(command, env=environment)
    finally:
        server.shutdown()
    findings = server.findings.report()
    if options.report:
        with open(options.report, "w", encoding="utf-8") as out:
            json.dump(dict(findings, shape=options.shape), out, indent=1)
    print(
        f"spec_proxy: {findings['checked']} answer(s) checked against the spec in the {options.shape} shape, "
        f"{len(findings['violations'])} violation(s)",
        file=sys.stderr,
    )
    for violation in findings["violations"]:
        print(f"spec_proxy: VIOLATION {violation}", file=sys.stderr)
    if status != 0:
        return status
    if findings["violations"]:
        return 1
    if findings["checked"] == 0:
        print(
            "spec_proxy: no answer passed through the proxy: the test did not use AMC_SPEC_PROXY",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
