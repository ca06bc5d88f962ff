"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: the real SDK talks to it over HTTP.

It answers ``POST /v1/embeddings`` and ``POST /v1/chat/completions`` from functions the test provides, and records
every request (headers included) so tests can check what the client sent.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Literal


@dataclass
class FakeReply:
    """A scripted answer: the assistant content, or an HTTP error status; optionally after a delay."""

    content: str = ""
    status: int = 200
    delay_s: float = 0.0
    raw: str | None = None
    """sent as the whole HTTP body instead of a chat completion (a malformed reply)"""
    usage: dict[str, Any] | Literal["count"] | None = "count"
    """the token counts sent: counted from the words ("count"), these (a lying server), or none at all (None)"""


EmbedFn = Callable[[str], list[float]]
ChatFn = Callable[[dict[str, Any]], "str | FakeReply"]
"""Given the request body, the assistant message content (or a FakeReply) to answer with."""


class ScriptedChat:
    """Replays replies in order; fails the test on a call beyond the script, and `assert_complete()` on unused
    replies. Each call's request body is kept in `calls`."""

    def __init__(self, replies: list[str | FakeReply]) -> None:
        self.replies = list(replies)
        self.calls: list[dict[str, Any]] = []
        self.unexpected = 0

    def __call__(self, body: dict[str, Any]) -> str | FakeReply:
        self.calls.append(body)
        if len(self.calls) > len(self.replies):
            self.unexpected += 1
            return FakeReply(status=400, content="unexpected call: the script has no reply left")
        return self.replies[len(self.calls) - 1]

    def assert_complete(self) -> None:
        assert self.unexpected == 0, f"{self.unexpected} call(s) beyond the script"
        assert len(self.calls) == len(self.replies), f"{len(self.replies) - len(self.calls)} scripted reply(s) unused"


class FakeOpenAIServer:
    def __init__(self, embed: EmbedFn | None = None, chat: ChatFn | None = None) -> None:
        self.embed = embed
        self.chat = chat
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append({"path": self.path, "headers": headers, "body": body})
                status, payload = server.route(self.path, body)
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def route(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any] | str]:
        if path.endswith("/embeddings") and self.embed is not None:
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [{"object": "embedding", "index": i, "embedding": self.embed(t)} for i, t in enumerate(inputs)]
            usage = {"prompt_tokens": sum(len(t.split()) for t in inputs), "total_tokens": 0}
            return 200, {"object": "list", "data": data, "model": body.get("model", ""), "usage": usage}
        if path.endswith("/chat/completions") and self.chat is not None:
            reply = self.chat(body)
            reply = reply if isinstance(reply, FakeReply) else FakeReply(content=reply)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            if reply.raw is not None:
                return reply.status, reply.raw
            if reply.status != 200:
                return reply.status, {"error": {"message": reply.content or "scripted error", "type": "server_error"}}
            content = reply.content
            message = {"role": "assistant", "content": content}
            usage: dict[str, Any] | None = reply.usage if reply.usage != "count" else None
            if reply.usage == "count":
                usage = {
                    "prompt_tokens": sum(len(str(m.get("content", "")).split()) for m in body["messages"]),
                    "completion_tokens": len(content.split()),
                }
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            completion = {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", ""),
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            }
            return 200, completion if usage is None else {**completion, "usage": usage}
        return 404, {"error": {"message": f"no route for {path}", "type": "invalid_request_error"}}

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class TricklingServer:
    """A loopback server that answers every request one byte a second, for as long as the client reads or for
    `lifetime` seconds: a body in chunks ("chunked"), a body of a declared 100 MB ("length"), or endless headers
    ("headers"). Only a deadline on the whole request ends such a call."""

    HEADS: ClassVar[dict[str, bytes]] = {
        "chunked": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        "length": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n",
        "headers": b"HTTP/1.1 200 OK\r\nX-Slow: ",
    }
    DRIPS: ClassVar[dict[str, bytes]] = {"chunked": b"1\r\n \r\n", "length": b" ", "headers": b"X"}

    def __init__(self, mode: str, lifetime: float = 30) -> None:
        self.mode, self.lifetime = mode, lifetime
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.5)
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.getsockname()[1]}/v1"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        started = time.monotonic()
        try:
            conn.recv(65536)
            conn.sendall(self.HEADS[self.mode])
            while not self._stop.is_set() and time.monotonic() - started < self.lifetime:
                conn.sendall(self.DRIPS[self.mode])
                self._stop.wait(1)
        except OSError:  # the client gave up
            pass
        finally:
            conn.close()

    def __enter__(self) -> TricklingServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.close()
