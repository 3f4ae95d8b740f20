"""A tiny OpenAI-compatible SSE server for unit tests (127.0.0.1, random port, own thread).

It streams ``tokens`` chunks ``gap_s`` apart after ``ttft_s``, then a usage chunk and [DONE];
``status`` != 200 answers with an error body instead. Only the bench client's parsing and
bookkeeping are under test here; timing claims are made against the real simulator in
tests/integration/bench/."""

from __future__ import annotations

import asyncio
import json
import threading

from aiohttp import web


class FakeServer:
    def __init__(self, ttft_s=0.0, gap_s=0.0, tokens=5, status=200, usage=True, role_chunk=True, hold_after_done_s=0.0):
        self.ttft_s, self.gap_s, self.tokens, self.status = ttft_s, gap_s, tokens, status
        self.hold_after_done_s = hold_after_done_s
        self.usage, self.role_chunk = usage, role_chunk
        self.requests: list[dict] = []
        self.port = 0
        self._loop = None
        self._runner = None
        self._ready = threading.Event()

    async def _handle(self, request: web.Request):
        body = await request.json()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.requests.append({"path": request.path, "body": body, "auth": request.headers.get("Authorization"), "peer": peer})
        if self.status != 200:
            return web.json_response({"error": {"message": "nope", "code": self.status}}, status=self.status)
        chat = request.path.endswith("/chat/completions")
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)

        async def send(obj):
            await resp.write(b"data: " + json.dumps(obj).encode() + b"\n\n")

        if chat and self.role_chunk:
            await send({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
        await asyncio.sleep(self.ttft_s)
        n = int(body.get("max_tokens") or self.tokens)
        for i in range(n):
            if i:
                await asyncio.sleep(self.gap_s)
            if chat:
                await send({"choices": [{"index": 0, "delta": {"content": "tok%d " % i}}]})
            else:
                await send({"choices": [{"index": 0, "text": "tok%d " % i}]})
        if self.usage:
            await send({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": n, "total_tokens": 7 + n}})
        await resp.write(b"data: [DONE]\n\n")
        await asyncio.sleep(self.hold_after_done_s)  # a server slow to end the body after [DONE]
        return resp

    def _run(self):
        self._loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_post("/v1/completions", self._handle)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc):
        fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        fut.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self):
        return "http://127.0.0.1:%d/v1" % self.port
