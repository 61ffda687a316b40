"""The sandboxes' HTTP serving: werkzeug's threaded WSGI server on loopback, in a background thread.

The request handler keeps HTTP/1.1 connections alive (werkzeug's own handler closes every
connection after one answer and waits 10 ms draining each request), writes each answer in one send
with TCP_NODELAY, and logs nothing per request. Stopping also closes idle keep-alive connections,
which would otherwise outlive the server.
"""
from __future__ import annotations

import logging
import socket
import threading
from http import HTTPStatus
from typing import Any, Callable, Self

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wsgi import LimitedStream

log = logging.getLogger(__name__)
_PHRASES = {status.value: status.phrase for status in HTTPStatus}


class KeepAliveHandler(WSGIRequestHandler):
    """werkzeug's handler with HTTP/1.1 keep-alive, one send per answer, and no request log."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 75  # an idle keep-alive connection is closed after this many seconds

    def setup(self) -> None:
        super().setup()
        conns = getattr(self.server, "sandbox_connections", None)
        if conns is not None:
            with self.server.sandbox_lock:  # type: ignore[attr-defined]
                conns.add(self.connection)

    def finish(self) -> None:
        conns = getattr(self.server, "sandbox_connections", None)
        if conns is not None:
            with self.server.sandbox_lock:  # type: ignore[attr-defined]
                conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error" and "timed out" not in message:
            log.error(message.rstrip(), *args)

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.environ = self.make_environ()
        chunked = environ.get("wsgi.input_terminated", False)
        stream: Any = environ["wsgi.input"]
        if not chunked:
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            stream = LimitedStream(self.rfile, max(length, 0))
            environ["wsgi.input"] = stream
            environ["wsgi.input_terminated"] = True

        state: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            if exc_info and state.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            state["status"], state["headers"] = status, headers
            return chunks.append

        chunks: list[bytes] = []
        try:
            app_iter = self.server.app(environ, start_response)
            try:
                for data in app_iter:
                    if data:
                        chunks.append(data)
            finally:
                if hasattr(app_iter, "close"):
                    app_iter.close()
        except Exception:
            log.exception("sandbox WSGI app failed")
            chunks = [b'{"type":"https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1","title":'
                      b'"Internal Server Error","status":500,"o:errorDetails":[{"detail":"An unexpected error '
                      b'occurred.","o:errorCode":"UNEXPECTED_ERROR"}]}']
            state["status"] = "500 Internal Server Error"
            state["headers"] = [("Content-Type", "application/vnd.oracle.resource+json; type=error")]

        if environ.get("sandbox.dropped"):
            self.close_connection = True
            return
        # Read what the app left of the request body so the next request starts at its first line.
        try:
            if chunked:
                while stream.read(65536):
                    pass
            else:
                stream.exhaust()
        except Exception:
            self.close_connection = True

        status = state.get("status", "500 Internal Server Error")
        code = int(status.split(None, 1)[0])
        if code in _PHRASES:  # werkzeug upper-cases reason phrases ("401 UNAUTHORIZED")
            status = f"{code} {_PHRASES[code]}"
        body = b"".join(chunks)
        lines = [f"{self.protocol_version} {status}\r\n",
                 f"Date: {self.date_time_string()}\r\n"]
        has_length = False
        for key, value in state.get("headers", []):
            lower = key.lower()
            if lower in ("connection", "transfer-encoding", "keep-alive"):
                continue
            if lower == "content-length":
                has_length = True
                if self.command != "HEAD":
                    continue  # ours below is exact
            lines.append(f"{key}: {value}\r\n")
        if code >= 200 and code not in (204, 304) and not (self.command == "HEAD" and has_length):
            lines.append(f"Content-Length: {len(body)}\r\n")
        if self.close_connection:
            lines.append("Connection: close\r\n")
        elif self.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive\r\n")
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        if self.command == "HEAD" or code in (204, 304):
            body = b""
        try:
            self.wfile.write(head + body)
        except OSError:
            self.close_connection = True


class LoopbackServer:
    """One WSGI app served on host:port (0: a free port) until stop()."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._httpd: Any = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self, app: Callable[..., Any], name: str) -> int:
        """Serve `app`; returns the port (the one chosen when port was 0)."""
        httpd = make_server(self.host, self.port, app, threaded=True, request_handler=KeepAliveHandler)
        httpd.sandbox_connections = set()
        httpd.sandbox_lock = threading.Lock()
        self.port = httpd.socket.getsockname()[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"{name}-{self.port}", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            with httpd.sandbox_lock:
                conns = list(httpd.sandbox_connections)
            for conn in conns:  # keep-alive connections would otherwise outlive the server
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


class SandboxHttpServer:
    """What both sandbox servers share: an account (ensure_seeded/start/stop) served by a LoopbackServer.

    A subclass sets `host`, `port`, `_server` (a LoopbackServer) and `thread_name`, and gives
    `_account()` and `_create_app()`.
    """

    thread_name = "sandbox-http"
    host: str
    port: int
    _server: LoopbackServer

    def _account(self) -> Any:
        raise NotImplementedError

    def _create_app(self) -> Callable[..., Any]:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def admin_url(self) -> str:
        return self.base_url + "/sandbox/admin/v1"

    def start(self) -> Self:
        if self._server.running:
            return self
        account = self._account()
        account.ensure_seeded()
        self.port = self._server.start(self._create_app(), self.thread_name)
        account.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        self._account().stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
