"""The client's SSE parsing and token bookkeeping against an in-process SSE server."""

import asyncio

import pytest
from fakeserver import FakeServer

from bench.client import Client, Result


def _one(url, api="chat", key=None, max_tokens=4):
    async def go():
        async with Client(url, "m", api, key) as c:
            r = Result(0, None)
            await c.request(c.body("hello world", max_tokens), r)
            return r

    return asyncio.run(go())


@pytest.mark.parametrize("api", ["chat", "completions"])
def test_stream_parsed_tokens_from_usage(api):
    with FakeServer(tokens=4) as s:
        r = _one(s.url, api, key="sk-test")
        req = s.requests[0]
    assert r.ok, r.error_detail
    assert len(r.chunk_times) == 4  # role-only chunk and usage chunk are not token chunks
    assert r.output_tokens == 4 and r.prompt_tokens == 7 and r.tokens_from == "usage"
    assert req["auth"] == "Bearer sk-test"
    assert req["body"]["stream"] is True and req["body"]["stream_options"] == {"include_usage": True}
    assert req["path"].endswith("/chat/completions" if api == "chat" else "/v1/completions")


def test_no_usage_falls_back_to_chunk_count():
    with FakeServer(tokens=3, usage=False) as s:
        r = _one(s.url, max_tokens=3)
    assert r.ok and r.output_tokens == 3 and r.tokens_from == "chunks"


def test_http_error_is_classified_by_status():
    with FakeServer(status=401) as s:
        r = _one(s.url)
    assert not r.ok and r.error == "http_401" and "nope" in r.error_detail


def test_connection_refused_is_an_error_kind():
    r = _one("http://127.0.0.1:9/v1")
    assert r.error == "connection"


def test_error_bodies_are_redacted():
    from bench.client import redact

    assert redact("Invalid key. Received API Key = sk-abcdef123456, hash") == "Invalid key. Received API Key = sk-***, hash"
    assert redact("Authorization: Bearer abc.def-ghi") == "Authorization: Bearer ***"
