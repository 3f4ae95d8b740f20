"""LiteLLMClient: auth headers, retries with backoff, error mapping, pagination, lookups."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.six.moves.urllib.error import URLError

from ansible_collections.llm.platform.plugins.module_utils._litellm import (
    LiteLLMClient,
    LiteLLMError,
    _parse_error,
    changes,
    fingerprint,
    same,
)


def test_sends_bearer_and_x_api_key_and_audit_header(client, fake):
    client.get("/v2/team/list")
    h = fake.headers[-1]
    assert h["Authorization"] == "Bearer " + fake.master_key
    assert h["x-api-key"] == fake.master_key
    assert h["litellm-changed-by"] == "unit"


def test_500_twice_then_200_succeeds_with_exponential_backoff(client, fake, sleeps):
    fake.faults = [500, 500]
    assert client.get("/v2/team/list")["teams"] == []
    assert sleeps == [0.5, 1.0]
    assert client.retried == 2


def test_429_is_retried_but_400_is_not(client, fake, sleeps):
    fake.faults = [429]
    client.get("/v2/team/list")
    assert sleeps == [0.5]
    fake.teams["t"] = {"team_id": "t"}
    with pytest.raises(LiteLLMError) as e:
        client.post("/team/new", {"team_id": "t"})
    assert e.value.status == 400 and e.value.attempts == 1
    assert sleeps == [0.5]


def test_persistent_5xx_fails_after_bounded_attempts_with_clear_message(client, fake, sleeps):
    fake.faults = [503] * 10
    with pytest.raises(LiteLLMError) as e:
        client.get("/team/info", {"team_id": "x"})
    assert e.value.attempts == 4 and len(sleeps) == 3
    assert "GET /team/info" in str(e.value) and "HTTP 503" in str(e.value) and "after 4 attempts" in str(e.value)


def test_connection_refused_then_clear_failure(client, fake, sleeps):
    fake.faults = [URLError(ConnectionRefusedError(111, "Connection refused"))] * 4
    with pytest.raises(LiteLLMError) as e:
        client.get("/v2/team/list")
    assert e.value.status is None
    assert "cannot reach LiteLLM at http://127.0.0.1:4000" in str(e.value)
    assert "after 4 attempt(s)" in str(e.value)


def test_timeout_is_retried_then_named(client, fake, sleeps):
    fake.faults = [TimeoutError("timed out"), URLError(TimeoutError("timed out"))]
    assert client.get("/v2/team/list")["teams"] == []
    fake.faults = [TimeoutError("timed out")] * 4
    with pytest.raises(LiteLLMError) as e:
        client.get("/v2/team/list")
    assert "no answer within the 5 s timeout" in str(e.value)


def test_status_decides_before_type():
    # LiteLLM types a 404 as internal_server_error: the status wins.
    err = LiteLLMError("GET", "/team/info", 404, "internal_server_error", "Team not found")
    assert "HTTP 404 not found: Team not found" in str(err)
    err = LiteLLMError("POST", "/chat", 422, "budget_exceeded", "Budget has been exceeded!")
    assert "budget exceeded" in str(err)
    assert "authentication failed" in str(LiteLLMError("GET", "/x", 401, "auth_error", ""))


@pytest.mark.parametrize(
    ("raw", "etype", "message"),
    [
        (json.dumps({"error": {"message": "m", "type": "bad_request_error", "code": "400"}}), "bad_request_error", "m"),
        (json.dumps({"detail": {"error": "Budget with id 'x' already exists."}}), None, "Budget with id 'x' already exists."),
        (
            json.dumps({"detail": [{"type": "float_parsing", "loc": ["body", "max_budget"], "msg": "bad"}]}),
            "validation_error",
            "body.max_budget: bad",
        ),
        ("<html>oops</html>", None, "<html>oops</html>"),
    ],
)
def test_error_shapes(raw, etype, message):
    assert _parse_error(raw) == (etype, message)


def test_pagination_reads_every_page(client, fake):
    for i in range(250):
        fake.teams["t%03d" % i] = {"team_id": "t%03d" % i, "team_alias": "t%03d" % i}
    teams = client.teams_list()
    assert len(teams) == 250
    assert sum(1 for c in fake.calls if c[1] == "/v2/team/list") == 3


def test_team_alias_lookup_is_exact_and_fails_on_ambiguity(client, fake):
    fake.teams["1"] = {"team_id": "1", "team_alias": "acme"}
    fake.teams["2"] = {"team_id": "2", "team_alias": "acme-2"}
    fake.teams["3"] = {"team_id": "3", "team_alias": "ACME"}
    assert client.team_by_alias("acme")["team_id"] == "1"
    fake.teams["4"] = {"team_id": "4", "team_alias": "acme"}
    with pytest.raises(LiteLLMError, match="2 teams have the alias 'acme'"):
        client.team_by_alias("acme")


def test_budget_info_unknown_is_none(client):
    assert client.budget_get("nope") is None


def test_wait_for_rereads_until_match(client, sleeps):
    values = iter([1, 1, 2])
    assert client.wait_for(lambda: next(values), lambda v: v == 2) == 2
    assert sleeps == [0.2, 0.4]


def test_comparison_only_user_keys_sets_and_numbers():
    server = {"models": ["b", "a"], "max_budget": 10, "metadata": {"tenant": "x", "server": 1}, "tpm_limit": None}
    assert same(server["models"], ["a", "b"])
    assert changes(server, {"models": ["a", "b"], "max_budget": 10.0, "metadata": {"tenant": "x"}, "rpm_limit": None}) == {}
    assert changes(server, {"max_budget": 20.0}) == {"max_budget": 20.0}


def test_fingerprint_is_stable_and_not_the_token():
    assert fingerprint("abc") == fingerprint("abc") != "abc"
    assert fingerprint(None) is None


def test_real_transport_reports_http_errors(monkeypatch):
    """_send turns HTTPError into (status, body) so retries and mapping see the status."""
    import io

    from ansible.module_utils.six.moves.urllib.error import HTTPError

    from ansible_collections.llm.platform.plugins.module_utils import _litellm

    class Boom:
        def __init__(self, **kwargs):
            pass

        def open(self, *a, **k):
            raise HTTPError("http://x", 404, "nf", {}, io.BytesIO(b'{"detail":{"error":"gone"}}'))

    monkeypatch.setattr(_litellm, "Request", Boom)
    c = LiteLLMClient("http://127.0.0.1:1", "k", retries=0)
    with pytest.raises(LiteLLMError) as e:
        c.get("/x")
    assert e.value.status == 404 and e.value.message == "gone"


def test_real_transport_builds_one_tls_context_per_client(monkeypatch):
    """Every call used to build a fresh SSL context (CA bundle load, ~25 ms): a 100-tenant
    onboarding spent most of its time there. A local HTTP server answers; count the contexts."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from ansible_collections.llm.platform.plugins.module_utils import _litellm

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"path": "%s"}' % self.path.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    built = []
    real = _litellm.make_context
    monkeypatch.setattr(_litellm, "make_context", lambda **kw: built.append(kw) or real(**kw))
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        c = LiteLLMClient("http://127.0.0.1:%d" % server.server_port, "k", retries=0, validate_certs=False)
        answers = [c.get("/n/%d" % i) for i in range(5)]
    finally:
        server.shutdown()
        server.server_close()
    assert answers == [{"path": "/n/%d" % i} for i in range(5)]
    assert built == [{"validate_certs": False}]
