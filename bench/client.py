"""One streaming OpenAI-compatible request, timed (chat and completions, SSE).

Timestamps are ``time.perf_counter()`` seconds. ``start`` is taken just before the POST is
issued; a chunk's time is when the bytes carrying it were read from the socket (events that
arrive in one read share that time, as they reached the client together). A *token chunk* is
an SSE message whose first choice carries non-empty text
(``delta.content``/``delta.reasoning_content`` for chat, ``text`` for completions); role-only and
usage-only messages are not token chunks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time

import aiohttp

_loads = json.loads
# Idle connections are reused for at most this long. uvicorn (vLLM, LiteLLM) closes idle
# keep-alive connections after 5 s; a request sent on a connection the server is closing at that
# moment fails as a disconnect that the server never saw, which would count as an endpoint error.
KEEPALIVE_S = 4.0
# How long to wait for the rest of a body after [DONE] so the connection can be reused.
DRAIN_S = 5.0
_KEYLIKE = re.compile(r"(sk-|Bearer\s+)[A-Za-z0-9_\-\.\*]{4,}")


def redact(text: str) -> str:
    """Error bodies may echo (parts of) the API key: never keep anything key-like."""
    return _KEYLIKE.sub(lambda m: m.group(1) + "***", text)


class Result:
    """Per-request record. Latencies in seconds; ``None`` when not applicable."""

    __slots__ = (
        "chunk_times",
        "error",
        "error_detail",
        "output_tokens",
        "prompt_tokens",
        "scheduled",
        "start",
        "status",
        "step",
        "tokens_from",
        "wall_start",
    )

    def __init__(self, step: int, scheduled: float | None):
        self.step = step
        self.scheduled = scheduled  # perf_counter time the load profile wanted it sent (open loop)
        self.start = 0.0
        self.wall_start = 0.0
        self.chunk_times: list[float] = []
        self.output_tokens: int | None = None
        self.prompt_tokens: int | None = None
        self.tokens_from = "usage"
        self.status = 0
        self.error: str | None = None
        self.error_detail = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def ttft(self) -> float | None:
        return self.chunk_times[0] - self.start if self.chunk_times else None

    @property
    def e2e(self) -> float | None:
        return self.chunk_times[-1] - self.start if self.chunk_times else None

    @property
    def tpot(self) -> float | None:
        n = self.output_tokens or 0
        if not self.chunk_times or n < 2:
            return None
        return (self.chunk_times[-1] - self.chunk_times[0]) / (n - 1)

    @property
    def itls(self) -> list[float]:
        t = self.chunk_times
        return [t[i] - t[i - 1] for i in range(1, len(t))]

    @property
    def dispatch_lag(self) -> float | None:
        return None if self.scheduled is None else self.start - self.scheduled

    def as_dict(self) -> dict:
        return {
            "step": self.step,
            "wall_start": round(self.wall_start, 6),
            "ok": self.ok,
            "status": self.status,
            "error": self.error,
            "error_detail": self.error_detail[:300],
            "ttft_ms": _ms(self.ttft),
            "e2e_ms": _ms(self.e2e),
            "tpot_ms": _ms(self.tpot),
            "itl_ms": [round(x * 1000, 3) for x in self.itls],
            "output_tokens": self.output_tokens,
            "prompt_tokens": self.prompt_tokens,
            "tokens_from": self.tokens_from,
            "dispatch_lag_ms": _ms(self.dispatch_lag),
        }


def _ms(v):
    return None if v is None else round(v * 1000, 4)


class Client:
    """Sends requests over one aiohttp session (keep-alive, no connection limit)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api: str = "chat",
        api_key: str | None = None,
        timeout_s: float = 600.0,
        ignore_eos: bool = True,
        extra_body: dict | None = None,
        keepalive_s: float = KEEPALIVE_S,
    ):
        if api not in ("chat", "completions"):
            raise ValueError("api must be chat or completions")
        base = base_url.rstrip("/")
        if not base.endswith("/v1"):
            base += "/v1"
        self.url = base + ("/chat/completions" if api == "chat" else "/completions")
        self.base = base
        self.model = model
        self.api = api
        self.headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if api_key:
            self.headers["Authorization"] = "Bearer " + api_key
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=10)
        self.ignore_eos = ignore_eos
        self.extra_body = extra_body or {}
        self.keepalive_s = keepalive_s
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self):
        conn = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, enable_cleanup_closed=True, keepalive_timeout=self.keepalive_s)
        self.session = aiohttp.ClientSession(connector=conn, timeout=self.timeout, headers=self.headers, auto_decompress=False)
        return self

    async def __aexit__(self, *exc):
        await self.session.close()

    def body(self, prompt: str, max_tokens: int) -> bytes:
        b = {"model": self.model, "stream": True, "stream_options": {"include_usage": True}, "max_tokens": max_tokens, "temperature": 0}
        if self.ignore_eos:
            b["ignore_eos"] = True
        if self.api == "chat":
            b["messages"] = [{"role": "user", "content": prompt}]
        else:
            b["prompt"] = prompt
        b.update(self.extra_body)
        return json.dumps(b).encode()

    async def request(self, body: bytes, res: Result) -> Result:
        perf = time.perf_counter
        times = res.chunk_times
        res.wall_start = time.time()
        res.start = perf()
        chat = self.api == "chat"
        done = False
        try:
            async with self.session.post(self.url, data=body) as resp:
                res.status = resp.status
                if resp.status != 200:
                    res.error = "http_%d" % resp.status
                    res.error_detail = redact((await resp.read()).decode("utf-8", "replace")[:2000])
                    return res
                buf = b""
                async for data in resp.content.iter_any():
                    now = perf()
                    buf = buf + data if buf else data
                    end = buf.rfind(b"\n")
                    if end < 0:
                        continue
                    lines, buf = buf[:end].split(b"\n"), buf[end + 1 :]
                    for line in lines:
                        if not line.startswith(b"data:"):
                            continue
                        payload = line[5:].strip()
                        if payload == b"[DONE]":
                            done = True
                            break
                        obj = _loads(payload)
                        choices = obj.get("choices")
                        if choices:
                            c = choices[0]
                            if chat:
                                d = c.get("delta") or {}
                                if d.get("content") or d.get("reasoning_content") or d.get("reasoning"):
                                    times.append(now)
                            elif c.get("text"):
                                times.append(now)
                        usage = obj.get("usage")
                        if usage:
                            res.output_tokens = usage.get("completion_tokens")
                            res.prompt_tokens = usage.get("prompt_tokens")
                        elif "error" in obj:
                            res.error = "stream_error"
                            res.error_detail = redact(json.dumps(obj["error"])[:300])
                            return res
                    if done:
                        break
                if done:
                    # Read the end of the body (the chunked terminator after [DONE]): a response
                    # left unread closes its connection instead of returning it to the pool.
                    # The answer is complete either way, so a slow or broken end is not an error.
                    with contextlib.suppress(TimeoutError, aiohttp.ClientError):
                        await asyncio.wait_for(resp.read(), DRAIN_S)
        except TimeoutError:
            res.error = "timeout"
        except aiohttp.ClientConnectorError as exc:
            res.error, res.error_detail = "connection", redact(str(exc))
        except (aiohttp.ClientError, ValueError) as exc:
            res.error, res.error_detail = "protocol", "%s: %s" % (type(exc).__name__, exc)
        if res.error is None:
            if not times:
                res.error = "empty_stream"
            elif not done:
                res.error = "incomplete_stream"
        if res.output_tokens is None:
            res.tokens_from = "chunks"
            res.output_tokens = len(times)
        return res

    async def models(self) -> list[dict]:
        """The endpoint's /v1/models entries (id, owned_by, root, max_model_len), [] if unavailable."""
        try:
            async with self.session.get(self.base + "/models") as resp:
                if resp.status != 200:
                    return []
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return []
        keep = ("id", "owned_by", "root", "parent", "max_model_len")
        return [{k: m.get(k) for k in keep if m.get(k) is not None} for m in (data.get("data") or [])[:20] if isinstance(m, dict)]

    async def check(self) -> tuple[int, str]:
        """One small request before the load: returns (HTTP status, body excerpt)."""
        res = Result(-1, None)
        await self.request(self.body("hello", 2), res)
        return res.status, res.error_detail or (res.error or "")
