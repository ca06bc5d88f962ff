"""The openai SDK client for the configured endpoint, with a deadline on every request however slowly the server
sends.

httpx's timeouts bound each read, so a server that sends one byte a second (or declares a 100 MB body and
trickles it) holds a request forever. Here each request, headers and body, runs in a daemon thread and is given
up at its deadline as a timeout, which the openai SDK retries or reports like any other.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx2
from openai import DefaultHttpxClient, OpenAI

from copilot.core.config import Settings


class DeadlineHttpClient(DefaultHttpxClient):  # type: ignore[misc, valid-type]
    """The SDK's default client (its limits, redirects and proxy settings) with a whole-request deadline."""

    def __init__(self, deadline_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deadline_s = deadline_s

    def send(self, request: httpx2.Request, *, stream: bool = False, **kwargs: Any) -> httpx2.Response:
        if stream:  # a streamed body is read by the caller, chunk by chunk: nothing to wait for here
            return super().send(request, stream=True, **kwargs)
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def attempt() -> None:
            try:
                outcome["response"] = super(DeadlineHttpClient, self).send(request, stream=False, **kwargs)
            except BaseException as error:  # handed to the caller's thread
                outcome["error"] = error
            finally:
                done.set()

        threading.Thread(target=attempt, name="llm-request", daemon=True).start()
        if not done.wait(self.deadline_s):
            # The thread is left to end on its own (a read timeout or the server closing); as a daemon it never
            # holds the process open.
            raise httpx2.ReadTimeout(f"no complete reply within {self.deadline_s:g} s", request=request)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]


def openai_client(settings: Settings) -> OpenAI:
    """The SDK's client for the settings' endpoint: each request given up at `request_timeout_s` from its start,
    retried `request_retries` times by the SDK."""
    key = settings.api_key.get_secret_value() if settings.api_key else "not-needed"
    timeout = settings.request_timeout_s
    return OpenAI(
        api_key=key,
        base_url=settings.base_url,
        timeout=timeout,
        max_retries=settings.request_retries,
        http_client=DeadlineHttpClient(deadline_s=timeout, timeout=timeout),
    )
