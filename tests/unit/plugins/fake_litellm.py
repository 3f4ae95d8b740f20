"""An in-memory stand-in for LiteLLM 1.108.7's admin API, with the shapes and quirks of
shared/docs/litellm-notes.md, plugged in as LiteLLMClient._send (no sockets)."""

from __future__ import annotations

import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlsplit


def _hash(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


class Fake:
    def __init__(self, master_key="sk-master-unit"):
        self.master_key = master_key
        self.teams = {}
        self.keys = {}  # token -> row
        self.budgets = {}
        self.calls = []  # (method, path, body)
        self.faults = []  # queue of status codes or exceptions served before handling
        self.headers = []

    # -- the transport LiteLLMClient._send expects --
    def send(self, method, url, headers, data):
        self.headers.append(headers)
        if self.faults:
            fault = self.faults.pop(0)
            if isinstance(fault, BaseException):
                raise fault
            if isinstance(fault, int):
                return fault, json.dumps({"error": {"message": "injected", "type": "internal_server_error", "code": str(fault)}})
            if callable(fault):  # a request that lands, then the answer is lost
                fault(method, url, data)
                return 500, json.dumps({"error": {"message": "lost", "type": "internal_server_error"}})
        return self.handle(method, url, headers, data)

    def handle(self, method, url, headers, data):
        parts = urlsplit(url)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = json.loads(data) if data else None
        self.calls.append((method, parts.path, body))
        if headers.get("Authorization") != "Bearer " + self.master_key:
            return 401, json.dumps({"error": {"message": "Authentication Error", "type": "auth_error", "code": "401"}})
        fn = getattr(self, "r_" + parts.path.strip("/").replace("/", "_"), None)
        if fn is None:
            return 404, json.dumps({"detail": "Not Found"})
        status, obj = fn(q, body)
        return status, json.dumps(obj)

    def writes(self):
        return [c for c in self.calls if c[0] != "GET" and c[1] not in ("/budget/info",)]

    # -- teams --
    def r_team_new(self, q, b):
        tid = b.get("team_id") or secrets.token_hex(8)
        if tid in self.teams:
            return 400, {"error": {"message": "Team id = %s already exists" % tid, "type": "bad_request_error", "code": "400"}}
        row = {
            "team_id": tid,
            "team_alias": b.get("team_alias"),
            "models": b.get("models") or [],
            "max_budget": b.get("max_budget"),
            "budget_duration": b.get("budget_duration"),
            "tpm_limit": b.get("tpm_limit"),
            "rpm_limit": b.get("rpm_limit"),
            "metadata": b.get("metadata") or {},
            "spend": 0.0,
            "blocked": False,
            "members_with_roles": [{"user_id": "default_user_id", "role": "admin"}],
        }
        self.teams[tid] = row
        return 200, row

    def r_team_info(self, q, b):
        t = self.teams.get(q.get("team_id"))
        if t is None:
            return 404, {
                "error": {
                    "message": "Team not found, passed team id: %s" % q.get("team_id"),
                    "type": "internal_server_error",
                    "code": "404",
                }
            }
        return 200, {"team_id": t["team_id"], "team_info": dict(t), "keys": [], "team_memberships": []}

    def r_team_update(self, q, b):
        t = self.teams.get(b["team_id"])
        if t is None:
            return 404, {"error": {"message": "Team not found", "type": "not_found_error", "code": "404"}}
        t.update({k: v for k, v in b.items() if k != "team_id"})
        return 200, {"team_id": t["team_id"], "data": dict(t)}

    def r_team_delete(self, q, b):
        missing = [t for t in b["team_ids"] if t not in self.teams]
        if missing:
            return 404, {"detail": {"error": "Team not found, passed team_id=%s" % missing[0]}}
        for t in b["team_ids"]:
            del self.teams[t]
            for tok in [k for k, v in self.keys.items() if v["team_id"] == t]:
                del self.keys[tok]  # deletes cascade
        return 200, {"deleted_teams": b["team_ids"]}

    def r_v2_team_list(self, q, b):
        alias = (q.get("team_alias") or "").lower()
        rows = [dict(t) for t in self.teams.values() if alias in (t.get("team_alias") or "").lower()]
        return 200, self._page(rows, int(q.get("page", 1)), int(q.get("page_size", 10)), "teams", "page_size")

    @staticmethod
    def _page(rows, page, size, key, size_key):
        total_pages = max(1, -(-len(rows) // size))
        return {key: rows[(page - 1) * size : page * size], "total": len(rows), "page": page, size_key: size, "total_pages": total_pages}

    # -- keys --
    def r_key_generate(self, q, b):
        alias = b.get("key_alias")
        if alias and any(k["key_alias"] == alias for k in self.keys.values()):
            return 400, {
                "error": {
                    "message": "Key with alias %s already exists" % alias,
                    "type": "bad_request_error",
                    "param": "key_alias",
                    "code": "400",
                }
            }
        raw = "sk-" + secrets.token_urlsafe(16)
        tok = _hash(raw)
        row = {
            "token": tok,
            "key_alias": alias,
            "key_name": "sk-...%s" % raw[-4:],
            "team_id": b.get("team_id"),
            "models": b.get("models") or [],
            "max_budget": b.get("max_budget"),
            "budget_duration": b.get("budget_duration"),
            "tpm_limit": b.get("tpm_limit"),
            "rpm_limit": b.get("rpm_limit"),
            "metadata": b.get("metadata") or {},
            "spend": 0.0,
            "expires": None,
        }
        self.keys[tok] = row
        return 200, dict(row, key=raw, token_id=tok)

    def r_key_list(self, q, b):
        rows = [
            dict(k)
            for k in self.keys.values()
            if (not q.get("key_alias") or k["key_alias"] == q["key_alias"]) and (not q.get("team_id") or k["team_id"] == q["team_id"])
        ]
        if q.get("return_full_object") != "true":
            rows = [r["token"] for r in rows]
        page = self._page(rows, int(q.get("page", 1)), int(q.get("size", 10)), "keys", "size")
        return 200, {"keys": page["keys"], "total_count": len(rows), "current_page": page["page"], "total_pages": page["total_pages"]}

    def r_key_update(self, q, b):
        row = (
            self.keys.get(b.get("key"))
            if b.get("key")
            else next((k for k in self.keys.values() if k["key_alias"] == b.get("key_alias")), None)
        )
        if row is None:
            return 404, {"error": {"message": "Key not found.", "type": "not_found_error", "code": "404"}}
        new_alias = b.get("key_alias")
        if new_alias and new_alias != row["key_alias"] and any(k["key_alias"] == new_alias for k in self.keys.values()):
            return 400, {"error": {"message": "duplicate alias", "type": "bad_request_error", "param": "key_alias", "code": "400"}}
        row.update({k: v for k, v in b.items() if k != "key"})
        return 200, dict(row, key=row["token"])

    def r_key_delete(self, q, b):
        aliases = b.get("key_aliases") or []
        given = b.get("keys") or []
        toks = [t for t, k in self.keys.items() if k["key_alias"] in aliases or t in given or _hash(str(given and given[0])) == t]
        if not toks:
            return 404, {"error": {"message": "{'error': 'No keys found'}", "type": "internal_server_error", "code": "404"}}
        for t in toks:
            del self.keys[t]
        return 200, {"deleted_keys": aliases}

    # -- budgets --
    def r_budget_new(self, q, b):
        bid = b["budget_id"]
        if bid in self.budgets:
            return 400, {"detail": {"error": "Budget with id '%s' already exists." % bid}}
        self.budgets[bid] = dict(b, tpm_limit=b.get("tpm_limit"), rpm_limit=b.get("rpm_limit"))
        return 200, self.budgets[bid]

    def r_budget_info(self, q, b):
        return 200, [dict(self.budgets[i]) for i in b["budgets"] if i in self.budgets]

    def r_budget_update(self, q, b):
        row = self.budgets.get(b["budget_id"])
        if row is None:
            return 200, None
        row.update(b)
        return 200, row

    def r_budget_delete(self, q, b):
        return 200, self.budgets.pop(b["id"], None)

    def r_budget_list(self, q, b):
        return 200, [dict(v) for v in self.budgets.values()]
