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


def test_idle_connections_are_not_reused_past_the_keepalive_bound():
    """A connection idle longer than keepalive_s is replaced, so the client never races a server
    that closes idle keep-alive connections (uvicorn: 5 s) with a request on a dying connection."""

    async def go(url):
        async with Client(url, "m", "chat", None, keepalive_s=0.3) as c:
            for pause in (0.0, 0.05, 0.6):
                await asyncio.sleep(pause)
                r = Result(0, None)
                await c.request(c.body("hi", 1), r)
                assert r.ok, r.error_detail

    with FakeServer(tokens=1) as s:
        asyncio.run(go(s.url))
        peers = [r["peer"] for r in s.requests]
    assert peers[0] == peers[1]  # reused while fresh
    assert peers[2] != peers[1]  # a new connection after an idle gap longer than the bound


def test_a_body_that_does_not_end_after_done_is_still_a_complete_answer(monkeypatch):
    import bench.client

    monkeypatch.setattr(bench.client, "DRAIN_S", 0.2)
    with FakeServer(tokens=3, hold_after_done_s=2.0) as s:
        r = _one(s.url, max_tokens=3)
    assert r.ok, (r.error, r.error_detail)
    assert r.output_tokens == 3 and len(r.chunk_times) == 3


def test_default_keepalive_bound_is_below_uvicorn_idle_timeout():
    from bench.client import KEEPALIVE_S

    assert 0 < KEEPALIVE_S < 5.0  # uvicorn's timeout_keep_alive default, used by vLLM and LiteLLM


def test_connection_refused_is_an_error_kind():
    r = _one("http://127.0.0.1:9/v1")
    assert r.error == "connection"


def test_error_bodies_are_redacted():
    from bench.client import redact

    assert redact("Invalid key. Received API Key = sk-abcdef123456, hash") == "Invalid key. Received API Key = sk-***, hash"
    assert redact("Authorization: Bearer abc.def-ghi") == "Authorization: Bearer ***"
