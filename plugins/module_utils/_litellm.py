# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# ---------------------------------------------------------------------------
# PRIVATE: this module_utils is internal to the llm.platform collection.
# It is not a public API; it may change in any release without notice.
# ---------------------------------------------------------------------------
"""One LiteLLM admin-API client and the shared module engine for litellm_* modules.

Written against LiteLLM 1.108.7 (see shared/docs/litellm-notes.md):

* both ``Authorization: Bearer`` and ``x-api-key`` headers;
* bounded retries with exponential backoff on 429, 5xx, connection errors and
  timeouts; a clear failure afterwards;
* errors decided by HTTP status first, then by ``error.type`` where it is specific;
* pagination for ``/v2/team/list`` and ``/key/list``; exact-match post-filters;
* read-after-write tolerance (bounded re-reads until the written values show);
* updates send only what differs; only user-supplied fields are compared.
"""

from __future__ import annotations

import hashlib
import json
import socket
import time

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.urls import Request, make_context

MANAGED_BY = "llm-platform"
RETRY_STATUSES = (429, 500, 502, 503, 504)
# error.type values that say more than the status code does.
SPECIFIC_TYPES = {
    "budget_exceeded": "budget exceeded",
    "throttling_error": "rate limit reached",
    "key_model_access_denied": "model not allowed for this key",
    "team_model_access_denied": "model not allowed for this team",
    "token_not_found_in_db": "unknown key",
    "team_member_already_in_team": "already a member",
}
STATUS_TEXT = {
    400: "bad request",
    401: "authentication failed (check api_key: the LiteLLM master key)",
    403: "forbidden (the api_key is not a proxy admin key)",
    404: "not found",
    409: "conflict",
    422: "invalid request",
    429: "rate limited",
}


def litellm_argument_spec():
    """Connection options shared by every litellm_* module (see the doc fragment)."""
    return dict(
        api_url=dict(type="str", default="http://127.0.0.1:4000", fallback=(env_fallback, ["LITELLM_API_URL"])),
        api_key=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["LITELLM_MASTER_KEY"])),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="float", default=30),
        retries=dict(type="int", default=3),
        changed_by=dict(type="str"),
    )


def fingerprint(token):
    """A stable, non-reversible id of a key (sha256 of LiteLLM's hashed token), safe to log."""
    if not token:
        return None
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:32]


class LiteLLMError(Exception):
    """A failed admin-API call, with what a human needs to act on it."""

    def __init__(self, method, path, status=None, error_type=None, message="", body=None, attempts=1):
        self.method = method
        self.path = path
        self.status = status
        self.error_type = error_type
        self.message = message
        self.body = body
        self.attempts = attempts
        super().__init__(self.describe())

    def describe(self):
        where = "%s %s" % (self.method, self.path)
        if self.status is None:
            return "LiteLLM API %s failed after %d attempt(s): %s" % (where, self.attempts, self.message)
        meaning = SPECIFIC_TYPES.get(self.error_type) or STATUS_TEXT.get(self.status)
        if meaning is None and self.status >= 500:
            meaning = "server error"
        text = "LiteLLM API %s failed: HTTP %s %s" % (where, self.status, meaning or "")
        if self.status in RETRY_STATUSES and self.attempts > 1:
            text += " (after %d attempts)" % self.attempts
        if self.message:
            text += ": %s" % self.message
        return text

    def as_dict(self):
        return dict(
            method=self.method,
            path=self.path,
            status=self.status,
            type=self.error_type,
            message=self.message,
            attempts=self.attempts,
        )


def _parse_error(raw):
    """(type, message) from LiteLLM's several error shapes; never parses numbers out of text."""
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return None, (raw or "")[:300]
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            return err.get("type"), str(err.get("message", ""))[:500]
        detail = data.get("detail")
        if isinstance(detail, dict):
            return detail.get("type"), str(detail.get("error", detail))[:500]
        if isinstance(detail, list):  # pydantic validation
            parts = ["%s: %s" % (".".join(str(x) for x in d.get("loc", [])), d.get("msg", "")) for d in detail if isinstance(d, dict)]
            return "validation_error", "; ".join(parts)[:500]
        if detail is not None:
            return None, str(detail)[:500]
        if isinstance(err, str):
            return None, err[:500]
    return None, str(raw)[:300]


class LiteLLMClient:
    """Admin-API client. ``request`` returns the decoded JSON body or raises LiteLLMError."""

    def __init__(self, api_url, api_key, timeout=30, validate_certs=True, retries=3, backoff=0.5, changed_by=None, sleep=time.sleep):
        self.base = api_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.changed_by = changed_by
        self.sleep = sleep
        self.requests = []  # (method, path) of every call, for the module's `requests` return
        self.retried = 0
        # Filled by prefetch() for batches: the first lookup of each object reads these
        # listings instead of one GET per object. Re-reads after a write always call the API.
        self.snapshot = {}
        self._http = None

    @classmethod
    def from_module(cls, module):
        p = module.params
        return cls(
            p["api_url"],
            p["api_key"],
            timeout=p["timeout"],
            validate_certs=p["validate_certs"],
            retries=p["retries"],
            changed_by=p.get("changed_by"),
        )

    # -- transport (the one place that touches the network; unit tests replace it) --
    def _send(self, method, url, headers, data):
        """(status, body text). HTTP errors return their status; network errors raise."""
        if self._http is None:
            # One TLS context for the client's life: open_url builds a new one (and loads the CA
            # bundle) on every call, about 25 ms each, which was most of a 100-tenant onboarding.
            context = make_context(validate_certs=self.validate_certs)
            self._http = Request(timeout=self.timeout, validate_certs=self.validate_certs, follow_redirects="safe", context=context)
        try:
            resp = self._http.open(method, url, data=data, headers=headers)
            return resp.getcode(), resp.read().decode("utf-8")
        except HTTPError as e:
            try:
                body = e.read().decode("utf-8")
            except Exception:  # pragma: no cover - body unreadable
                body = ""
            return e.code, body

    def request(self, method, path, params=None, body=None, ok_missing=False):
        """Call the API. With ``ok_missing``, a 404 answers None instead of raising."""
        url = self.base + path
        if params:
            url += "?" + urlencode([(k, v) for k, v in params.items() if v is not None])
        headers = {"Authorization": "Bearer %s" % self.api_key, "x-api-key": self.api_key, "Accept": "application/json"}
        if self.changed_by:
            headers["litellm-changed-by"] = self.changed_by
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.requests.append({"method": method, "path": path})
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                status, text = self._send(method, url, headers, data)
            except (TimeoutError, URLError, ConnectionError, OSError) as e:
                reason = getattr(e, "reason", e)
                if isinstance(reason, socket.timeout) or "timed out" in str(reason):
                    message = "no answer within the %s s timeout" % self.timeout
                else:
                    message = "cannot reach LiteLLM at %s: %s" % (self.base, reason)
                if attempt < attempts:
                    self._wait(attempt)
                    continue
                raise LiteLLMError(method, path, message=message, attempts=attempt) from None
            if status in RETRY_STATUSES and attempt < attempts:
                self._wait(attempt)
                continue
            if 200 <= status < 300:
                if not text:
                    return None
                try:
                    return json.loads(text)
                except ValueError:
                    raise LiteLLMError(method, path, status, None, "answer is not JSON: %s" % text[:200], attempts=attempt) from None
            if status == 404 and ok_missing:
                return None
            etype, message = _parse_error(text)
            raise LiteLLMError(method, path, status, etype, message, body=text[:1000], attempts=attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, attempt):
        self.retried += 1
        self.sleep(min(self.backoff * (2 ** (attempt - 1)), 8))

    def get(self, path, params=None, ok_missing=False):
        return self.request("GET", path, params=params, ok_missing=ok_missing)

    def post(self, path, body, ok_missing=False):
        return self.request("POST", path, body=body, ok_missing=ok_missing)

    # -- pagination and lookups --
    def paged(self, path, params, items_key, page_param="page", size_param="page_size", size=100):
        page = 1
        out = []
        while True:
            q = dict(params or {})
            q[page_param] = page
            q[size_param] = size
            data = self.get(path, q) or {}
            items = data.get(items_key) or []
            out.extend(items)
            total_pages = data.get("total_pages") or 1
            if page >= total_pages or not items:
                return out
            page += 1

    def wait_for(self, fetch, predicate, attempts=6, delay=0.2):
        """Re-read until ``predicate(value)`` holds (read-after-write tolerance); returns the last value."""
        value = fetch()
        for i in range(attempts - 1):
            if predicate(value):
                return value
            self.sleep(delay * (2**i))
            value = fetch()
        return value

    # teams
    def team_get(self, team_id):
        data = self.get("/team/info", {"team_id": team_id}, ok_missing=True)
        if not data:
            return None
        info = data.get("team_info") or {}
        return info if info.get("team_id") else None

    def teams_list(self, team_alias=None):
        return self.paged("/v2/team/list", {"team_alias": team_alias}, "teams")

    def team_by_alias(self, alias):
        """Exact (case-sensitive) alias lookup; the API filters by substring. Fails on ambiguity."""
        exact = [t for t in self.teams_list(alias) if t.get("team_alias") == alias]
        if len(exact) > 1:
            raise LiteLLMError("GET", "/v2/team/list", message="%d teams have the alias %r; use team_id" % (len(exact), alias))
        return exact[0] if exact else None

    # keys
    def keys_list(self, team_id=None, key_alias=None):
        return self.paged(
            "/key/list",
            {"team_id": team_id, "key_alias": key_alias, "return_full_object": "true"},
            "keys",
            size_param="size",
        )

    def key_by_alias(self, alias):
        exact = [k for k in self.keys_list(key_alias=alias) if isinstance(k, dict) and k.get("key_alias") == alias]
        return exact[0] if exact else None

    # snapshots for batches
    def prefetch(self, kind):
        if kind == "teams":
            self.snapshot["teams"] = {t["team_id"]: t for t in self.teams_list() if isinstance(t, dict) and t.get("team_id")}
        elif kind == "keys":
            self.snapshot["keys"] = [k for k in self.keys_list() if isinstance(k, dict)]
        elif kind == "budgets":
            rows = self.get("/budget/list") or []
            self.snapshot["budgets"] = {b["budget_id"]: b for b in rows if isinstance(b, dict) and b.get("budget_id")}

    def lookup_team(self, team_id):
        snap = self.snapshot.get("teams")
        return snap.get(team_id) if snap is not None else self.team_get(team_id)

    def lookup_budget(self, budget_id):
        snap = self.snapshot.get("budgets")
        return snap.get(budget_id) if snap is not None else self.budget_get(budget_id)

    def lookup_team_keys(self, team_id):
        snap = self.snapshot.get("keys")
        if snap is None:
            return [k for k in self.keys_list(team_id=team_id) if isinstance(k, dict)]
        return [k for k in snap if k.get("team_id") == team_id]

    def lookup_key_alias(self, alias):
        snap = self.snapshot.get("keys")
        if snap is None:
            return self.key_by_alias(alias)
        found = [k for k in snap if k.get("key_alias") == alias]
        return found[0] if found else None

    # budgets
    def budget_get(self, budget_id):
        data = self.post("/budget/info", {"budgets": [budget_id]})
        for row in data or []:
            if isinstance(row, dict) and row.get("budget_id") == budget_id:
                return row
        return None


# ---------------------------------------------------------------------------
# Comparison: only what the user supplied, normalised.
# ---------------------------------------------------------------------------
def _norm(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return sorted((_norm(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


def same(current, desired):
    """True when ``desired`` (user-supplied) equals ``current``: lists as sets, dicts as subsets."""
    if isinstance(desired, dict):
        if not isinstance(current, dict):
            return not desired
        return all(same(current.get(k), v) for k, v in desired.items())
    return _norm(current) == _norm(desired)


def changes(existing, desired):
    """{field: desired value} for user-supplied fields that differ (None = not supplied)."""
    return {k: v for k, v in desired.items() if v is not None and not same(existing.get(k), v)}


def subset(obj, fields):
    return {k: obj.get(k) for k in fields} if obj else {}


# ---------------------------------------------------------------------------
# Resource engines: one function per kind, used by the single and batch forms.
# Each returns a dict: changed, action, diff{before,after}, existing, end_state (+ extras).
# ---------------------------------------------------------------------------
TEAM_FIELDS = ("team_alias", "models", "max_budget", "budget_duration", "tpm_limit", "rpm_limit", "metadata", "blocked")
BUDGET_FIELDS = ("max_budget", "budget_duration", "tpm_limit", "rpm_limit", "soft_budget", "max_parallel_requests")
KEY_FIELDS = ("team_id", "models", "max_budget", "budget_duration", "tpm_limit", "rpm_limit", "metadata", "max_parallel_requests")


def _result(changed, action, before, after, existing=None, end_state=None, **extra):
    res = dict(changed=changed, action=action, diff=dict(before=before, after=after), existing=existing, end_state=end_state)
    res.update(extra)
    return res


def ensure_team(client, spec, check_mode):
    """spec: team_id, state, and TEAM_FIELDS (None = leave as is)."""
    team_id = spec["team_id"]
    desired = {k: spec.get(k) for k in TEAM_FIELDS}
    if desired.get("metadata") is not None:
        desired["metadata"] = dict(desired["metadata"], managed_by=MANAGED_BY)
    supplied = [k for k, v in desired.items() if v is not None]
    existing = client.lookup_team(team_id)
    if spec.get("state", "present") == "absent":
        if existing is None:
            return _result(False, "none", {}, {}, team_id=team_id)
        if not check_mode:
            client.post("/team/delete", {"team_ids": [team_id]}, ok_missing=True)
        return _result(True, "delete", dict(subset(existing, supplied), team_id=team_id), {}, existing=existing, team_id=team_id)
    if existing is None:
        body = {k: v for k, v in desired.items() if v is not None}
        body["team_id"] = team_id
        body.setdefault("metadata", {"managed_by": MANAGED_BY})
        end = dict(body)
        if not check_mode:
            try:
                end = client.post("/team/new", body)
            except LiteLLMError as e:
                # A retried create whose first attempt landed: the id now exists.
                if e.status != 400 or e.attempts < 2:
                    raise
                existing = client.team_get(team_id)
                if existing is None:
                    raise
                return _update_team(client, team_id, existing, desired, supplied, check_mode)
        return _result(True, "create", {}, dict(subset(body, supplied), team_id=team_id), end_state=end, team_id=team_id)
    return _update_team(client, team_id, existing, desired, supplied, check_mode)


def _update_team(client, team_id, existing, desired, supplied, check_mode):
    diff = changes(existing, desired)
    if not diff:
        return _result(False, "none", {}, {}, existing=existing, end_state=existing, team_id=team_id)
    body = dict(diff, team_id=team_id)
    if "metadata" in diff:
        body["metadata"] = dict(existing.get("metadata") or {}, **diff["metadata"])
    end = dict(existing, **body)
    if not check_mode:
        client.post("/team/update", body)
        end = client.wait_for(lambda: client.team_get(team_id), lambda t: t is not None and not changes(t, diff)) or end
    return _result(True, "update", subset(existing, list(diff)), subset(end, list(diff)), existing=existing, end_state=end, team_id=team_id)


def ensure_budget(client, spec, check_mode):
    budget_id = spec["budget_id"]
    desired = {k: spec.get(k) for k in BUDGET_FIELDS}
    supplied = [k for k, v in desired.items() if v is not None]
    existing = client.lookup_budget(budget_id)
    if spec.get("state", "present") == "absent":
        if existing is None:
            return _result(False, "none", {}, {}, budget_id=budget_id)
        if not check_mode:
            client.post("/budget/delete", {"id": budget_id}, ok_missing=True)
        return _result(True, "delete", dict(subset(existing, supplied), budget_id=budget_id), {}, existing=existing, budget_id=budget_id)
    if existing is None:
        body = {k: v for k, v in desired.items() if v is not None}
        body["budget_id"] = budget_id
        end = dict(body)
        if not check_mode:
            try:
                end = client.post("/budget/new", body) or end
            except LiteLLMError as e:
                if e.status != 400 or e.attempts < 2:
                    raise
                existing = client.budget_get(budget_id)
                if existing is None:
                    raise
                return _update_budget(client, budget_id, existing, desired, check_mode)
        return _result(True, "create", {}, dict(subset(body, supplied), budget_id=budget_id), end_state=end, budget_id=budget_id)
    return _update_budget(client, budget_id, existing, desired, check_mode)


def _update_budget(client, budget_id, existing, desired, check_mode):
    diff = changes(existing, desired)
    if not diff:
        return _result(False, "none", {}, {}, existing=existing, end_state=existing, budget_id=budget_id)
    end = dict(existing, **diff)
    if not check_mode:
        updated = client.post("/budget/update", dict(diff, budget_id=budget_id))
        if updated is None:  # 200 null = the budget vanished meanwhile
            raise LiteLLMError("POST", "/budget/update", message="budget %r disappeared during the update" % budget_id)
        end = client.wait_for(lambda: client.budget_get(budget_id), lambda b: b is not None and not changes(b, diff)) or end
    return _result(
        True, "update", subset(existing, list(diff)), subset(end, list(diff)), existing=existing, end_state=end, budget_id=budget_id
    )


def public_key(row):
    """A key row without anything secret: no raw key, no hashed token (a fingerprint instead)."""
    if not row:
        return row
    out = {
        k: row.get(k)
        for k in (
            "key_alias",
            "key_name",
            "team_id",
            "models",
            "max_budget",
            "budget_duration",
            "tpm_limit",
            "rpm_limit",
            "metadata",
            "spend",
            "expires",
            "blocked",
            "created_at",
            "budget_reset_at",
        )
    }
    out["fingerprint"] = fingerprint(row.get("token"))
    return out


def _rotated_alias(alias, now):
    return "%s--rotated-%d" % (alias, int(now))


def ensure_key(client, spec, check_mode, now=None):
    """spec: key_alias, state, KEY_FIELDS, duration, rotate, consumer_fingerprint, grace_seconds.

    Rotation: the current key is renamed ``<alias>--rotated-<epoch>`` with
    ``metadata.delete_after``, a new key takes the alias, and rotated keys past
    their grace period are deleted on every run.
    """
    now = time.time() if now is None else now
    alias = spec["key_alias"]
    desired = {k: spec.get(k) for k in KEY_FIELDS}
    if desired.get("metadata") is not None:
        desired["metadata"] = dict(desired["metadata"], managed_by=MANAGED_BY)
    supplied = [k for k, v in desired.items() if v is not None]
    team_keys = None
    if spec.get("team_id"):
        # One listing gives the key and its rotated predecessors.
        team_keys = client.lookup_team_keys(spec["team_id"])
        found = [k for k in team_keys if k.get("key_alias") == alias]
        existing = found[0] if found else None
    else:
        existing = client.lookup_key_alias(alias)
    prefix = alias + "--rotated-"
    olds = [k for k in team_keys or [] if (k.get("key_alias") or "").startswith(prefix)]
    extra = dict(key_alias=alias)
    if spec.get("state", "present") == "absent":
        if existing is None and spec.get("team_id"):
            existing = client.lookup_key_alias(alias)  # moved to another team
        if existing is None and not olds:
            return _result(False, "none", {}, {}, **extra)
        if not check_mode:
            aliases = [alias] if existing else []
            aliases += [k["key_alias"] for k in olds]
            client.post("/key/delete", {"key_aliases": aliases}, ok_missing=True)
        before = dict(subset(existing, supplied), key_alias=alias) if existing else {}
        return _result(True, "delete", before, {}, existing=public_key(existing), **extra)

    if existing is None and spec.get("team_id"):
        existing = client.lookup_key_alias(alias)  # moved to another team: update it back
    reason = None
    if existing is not None:
        if spec.get("rotate"):
            reason = "rotate"
        elif spec.get("consumer_fingerprint") is not None and spec["consumer_fingerprint"] != fingerprint(existing.get("token")):
            reason = "consumer does not hold this key"
    expired = []
    if spec.get("cleanup_rotated", True):
        expired = [k for k in olds if float((k.get("metadata") or {}).get("delete_after") or 0) <= now]
    if existing is not None and reason is None:
        res = _update_key(client, alias, existing, desired, check_mode)
    else:
        res = _create_key(client, alias, existing, desired, supplied, spec, check_mode, now, reason)
    if expired:
        if not check_mode:
            client.post("/key/delete", {"key_aliases": [k["key_alias"] for k in expired]}, ok_missing=True)
        res["changed"] = True
    res["deleted_rotated"] = [k["key_alias"] for k in expired]
    res["pending_rotated"] = [k["key_alias"] for k in olds if k not in expired]
    return res


def _create_key(client, alias, existing, desired, supplied, spec, check_mode, now, reason):
    body = {}
    if existing is not None:  # a rotated key keeps the attributes of the one it replaces
        body = {k: existing.get(k) for k in KEY_FIELDS if existing.get(k) not in (None, [], {})}
        body["metadata"] = {k: v for k, v in (existing.get("metadata") or {}).items() if k not in ("delete_after", "rotated_from")}
    body.update({k: v for k, v in desired.items() if v is not None})
    body.setdefault("metadata", {"managed_by": MANAGED_BY})
    body["key_alias"] = alias
    if spec.get("duration"):
        body["duration"] = spec["duration"]
    action = "create" if existing is None else "rotate"
    before = {} if existing is None else dict(subset(existing, supplied), key_alias=alias, fingerprint=fingerprint(existing.get("token")))
    after = dict(subset(body, supplied), key_alias=alias)
    if check_mode:
        return _result(True, action, before, after, existing=public_key(existing), key_alias=alias, reason=reason)
    grace = spec.get("grace_seconds")
    grace = 3600 if grace is None else grace
    if existing is not None:
        old_alias = _rotated_alias(alias, now)
        meta = dict(existing.get("metadata") or {}, delete_after=now + grace, rotated_from=alias)
        client.post("/key/update", {"key": existing["token"], "key_alias": old_alias, "metadata": meta})
        client.wait_for(lambda: client.key_by_alias(alias), lambda k: k is None)
    try:
        created = client.post("/key/generate", body)
    except LiteLLMError as e:
        # A retried generate whose first attempt landed: its raw key is lost, so
        # delete that key and create it again (the consumer never saw it).
        if e.status != 400 or e.attempts < 2:
            raise
        client.post("/key/delete", {"key_aliases": [alias]}, ok_missing=True)
        created = client.post("/key/generate", body)
    if existing is not None and grace == 0:  # no grace period: the old key goes now
        client.post("/key/delete", {"keys": [existing["token"]]}, ok_missing=True)
    raw = created.get("key")
    after["fingerprint"] = fingerprint(created.get("token"))
    return _result(
        True,
        action,
        before,
        after,
        existing=public_key(existing),
        end_state=public_key(created),
        key_alias=alias,
        key=raw,
        fingerprint=fingerprint(created.get("token")),
        reason=reason,
    )


def _update_key(client, alias, existing, desired, check_mode):
    diff = changes(existing, desired)
    fp = fingerprint(existing.get("token"))
    if not diff:
        return _result(
            False, "none", {}, {}, existing=public_key(existing), end_state=public_key(existing), key_alias=alias, fingerprint=fp
        )
    body = dict(diff, key=existing["token"])
    if "metadata" in diff:
        body["metadata"] = dict(existing.get("metadata") or {}, **diff["metadata"])
    end = dict(existing, **body)
    if not check_mode:
        client.post("/key/update", body)
        end = client.wait_for(lambda: client.key_by_alias(alias), lambda k: k is not None and not changes(k, diff)) or end
    return _result(
        True,
        "update",
        subset(existing, list(diff)),
        subset(end, list(diff)),
        existing=public_key(existing),
        end_state=public_key(end),
        key_alias=alias,
        fingerprint=fp,
    )


MODEL_INFO_FIELDS = ("input_cost_per_token", "output_cost_per_token", "max_tokens", "mode")


def model_get(client, model_id):
    try:
        data = client.get("/model/info", {"litellm_model_id": model_id}, ok_missing=True) or {}
    except LiteLLMError as e:
        if e.status != 400:  # 1.108.7 answers 400 "Model id = ... not found"
            raise
        return None
    for row in data.get("data") or []:
        if (row.get("model_info") or {}).get("id") == model_id:
            return row
    return None


PRICE_FIELDS = ("input_cost_per_token", "output_cost_per_token")


def _model_view(row):
    """What can be compared of a stored model: its name, prices, and model_info."""
    info = dict(row.get("model_info") or {})
    view = {"model_name": row.get("model_name"), "model_info": info}
    for k in PRICE_FIELDS:
        view[k] = info.get(k, (row.get("litellm_params") or {}).get(k))
    return view


def ensure_model(client, spec, check_mode):
    """spec: model_id, model_name, prices, litellm_params (write-only), model_info (subset), state.

    LiteLLM 1.108.7 keeps custom prices only inside ``litellm_params`` (a price in
    ``model_info`` is silently dropped), so prices are options of their own, sent in
    ``litellm_params`` and compared against what ``/model/info`` reports.
    """
    model_id = spec["model_id"]
    existing = model_get(client, model_id)
    extra = dict(model_id=model_id)
    if spec.get("state", "present") == "absent":
        if existing is None:
            return _result(False, "none", {}, {}, **extra)
        if not check_mode:
            try:
                client.post("/model/delete", {"id": model_id})
            except LiteLLMError as e:
                if e.status not in (400, 404):
                    raise
        return _result(True, "delete", {"model_name": existing.get("model_name")}, {}, existing=_model_view(existing), **extra)
    desired = {"model_name": spec["model_name"], "model_info": dict(spec.get("model_info") or {}, managed_by=MANAGED_BY)}
    for k in PRICE_FIELDS:
        desired[k] = spec.get(k)
    params = dict(spec.get("litellm_params") or {})
    params.update({k: spec[k] for k in PRICE_FIELDS if spec.get(k) is not None})
    info = dict(desired["model_info"], id=model_id)
    supplied = [k for k, v in desired.items() if v is not None]
    if existing is None:
        body = {"model_name": spec["model_name"], "litellm_params": params, "model_info": info}
        if not check_mode:
            client.post("/model/new", body)
            client.wait_for(lambda: model_get(client, model_id), lambda m: m is not None)
        after = {k: desired[k] for k in supplied}
        return _result(True, "create", {}, after, **extra)
    current = _model_view(existing)
    diff = changes(current, desired)
    if spec.get("update_params"):
        diff["litellm_params"] = "(write-only)"
    if not diff:
        return _result(False, "none", {}, {}, existing=current, **extra)
    if not check_mode:
        body = {"model_name": spec["model_name"]}
        if "model_info" in diff:
            stored = {k: v for k, v in (existing.get("model_info") or {}).items() if k not in PRICE_FIELDS}
            body["model_info"] = dict(stored, **info)
        send = params if spec.get("update_params") else {k: desired[k] for k in PRICE_FIELDS if k in diff}
        if send:
            body["litellm_params"] = send
        client.request("PATCH", "/model/%s/update" % model_id, body=body)
        client.wait_for(lambda: model_get(client, model_id), lambda m: m is not None and not changes(_model_view(m), desired))
    before = {k: current.get(k) for k in diff if k != "litellm_params"}
    after = {k: desired.get(k) for k in diff if k != "litellm_params"}
    if "model_info" in diff:
        before["model_info"] = {k: current["model_info"].get(k) for k in desired["model_info"]}
    if "litellm_params" in diff:
        before["litellm_params"], after["litellm_params"] = "(write-only)", "(sent)"
    return _result(True, "update", before, after, existing=current, **extra)


# ---------------------------------------------------------------------------
# Module glue: single object or ``batch`` of objects, one process, one client.
# ---------------------------------------------------------------------------
def module_argument_spec(object_spec):
    """The connection options, one object's options, and ``batch`` (a list of such objects)."""
    spec = litellm_argument_spec()
    spec.update(object_spec)
    spec["batch"] = dict(type="list", elements="dict", options=object_spec)
    return spec


PREFETCH_MIN = 5  # from this many batch items on, one listing beats a GET per object


def run_module(module, engine, object_spec, id_field, prepare=None, prefetch=None, kind="item"):
    """Run ``engine`` for the module's single object or for each of its ``batch`` items.

    Every item must carry ``id_field`` once ``prepare`` (if any) has run; ``kind`` names
    the object in that error (a batch item has no argument spec to require it).

    ``prefetch`` (teams, keys or budgets): for a batch of PREFETCH_MIN or more, list that
    kind once (paged) and look objects up in the listing instead of one GET each.
    """
    client = LiteLLMClient.from_module(module)
    p = module.params
    specs = p.get("batch")
    single = specs is None
    if single:
        specs = [{k: p.get(k) for k in object_spec}]
    results = []
    try:
        if prefetch and not single and len(specs) >= PREFETCH_MIN:
            client.prefetch(prefetch)
        for item in specs:
            spec = dict(item)
            if spec.get("state") is None:
                spec["state"] = "present"
            if prepare is not None:
                spec = prepare(spec)
            if not spec.get(id_field):
                raise ValueError("each %s needs a %s" % (kind, id_field))
            res = engine(client, spec, module.check_mode)
            results.append(res)
    except ValueError as e:
        module.fail_json(msg=str(e), requests=client.requests)
    except LiteLLMError as e:
        done = [r.get(id_field) for r in results if r.get("changed")]
        module.fail_json(msg=e.describe(), failure=e.as_dict(), changed=bool(done), done=done, requests=client.requests)
    changed = any(r["changed"] for r in results)
    out = dict(changed=changed, requests=client.requests, retried=client.retried)
    if single:
        res = results[0]
        out.update({k: v for k, v in res.items() if k != "diff"})
        if module._diff:
            out["diff"] = res["diff"]
    else:
        out["objects"] = [{k: v for k, v in r.items() if k != "diff"} for r in results]
        if module._diff:
            out["diff"] = [dict(r["diff"], before_header=r.get(id_field), after_header=r.get(id_field)) for r in results if r["changed"]]
    return out
