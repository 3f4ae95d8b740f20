"""A small in-memory kube-apiserver for the k8s_apply unit tests.

It speaks just enough of the API: discovery per apiVersion, paged LIST (with an equality label
selector), GET, server-side apply (PATCH apply-patch+yaml, dryRun, fieldManager, force) with
field ownership per top-level leaf, DELETE, CRDs that become served when Established, Secrets'
stringData, the real server's HTTP 500 for a ConfigMap data value that is not a string (a schema
mismatch), 422 for an upper-case ConfigMap name, and injected faults.
It is a test double, not a model of the real server's merge semantics (the lab tests are).
"""

from __future__ import annotations

import base64
import copy
import json
from urllib.parse import unquote

BUILTIN = {
    "v1": {
        "ConfigMap": ("configmaps", True),
        "Secret": ("secrets", True),
        "Namespace": ("namespaces", False),
        "Service": ("services", True),
    },
    "apps/v1": {"Deployment": ("deployments", True)},
    "apiextensions.k8s.io/v1": {"CustomResourceDefinition": ("customresourcedefinitions", False)},
}


def _leaves(obj, prefix=()):
    """{path tuple: value} of the leaves (empty dicts and lists count as leaves)."""
    out = {}
    for k, v in obj.items():
        path = (*prefix, k)
        if isinstance(v, dict) and v:
            out.update(_leaves(v, path))
        else:
            out[path] = v
    return out


class FakeKube:
    def __init__(self):
        self.discovery = copy.deepcopy(BUILTIN)
        self.store = {}  # (api_version, plural, ns, name) -> object
        self.owners = {}  # same key -> {leaf path: manager}
        self.rv = 100
        self.faults = []  # statuses (or (status, body) tuples) answered to the next requests
        self.calls = []  # (method, path, query dict)
        self.establish_after = 0  # GETs of a new CRD before it reads Established
        self._crd_gets = {}
        self.namespaces = {"default", "kube-system"}

    # -- routing --
    def send(self, method, path, query, body, content_type):
        q = dict(query or [])
        self.calls.append((method, path, q))
        if self.faults:
            fault = self.faults.pop(0)
            status, fbody = fault if isinstance(fault, tuple) else (fault, {"reason": "Fault", "message": "injected %s" % fault})
            return status, {}, json.dumps(fbody)
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[0] == "api":
            api_version, rest = parts[1], parts[2:]
        else:
            api_version, rest = "%s/%s" % (parts[1], parts[2]), parts[3:]
        if not rest:
            kinds = self.discovery.get(api_version)
            if kinds is None:
                return self._status(404, "NotFound", "the server could not find the requested resource")
            res = [{"name": p, "kind": k, "namespaced": n} for k, (p, n) in kinds.items()]
            return 200, {}, json.dumps({"resources": res})
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        plural = rest[0]
        name = rest[1] if len(rest) > 1 else None
        kind = self._kind(api_version, plural)
        if kind is None:
            return self._status(404, "NotFound", "the server could not find the requested resource")
        if method == "GET" and name is None:
            return self._list(api_version, plural, ns, q)
        key = (api_version, plural, ns, name)
        if method == "GET":
            if key not in self.store:
                return self._status(404, "NotFound", '%s "%s" not found' % (plural, name))
            obj = self.store[key]
            if kind == "CustomResourceDefinition":
                self._crd_gets[name] = self._crd_gets.get(name, 0) + 1
                if self._crd_gets[name] > self.establish_after:
                    self._establish(obj)
            return 200, {}, json.dumps(obj)
        if method == "DELETE":
            if key not in self.store:
                return self._status(404, "NotFound", '%s "%s" not found' % (plural, name))
            obj = self.store[key]
            if q.get("dryRun") != "All":
                del self.store[key]
                self.owners.pop(key, None)
            return 200, {}, json.dumps(obj)
        if method == "PATCH":
            assert content_type == "application/apply-patch+yaml", content_type
            return self._apply(api_version, kind, plural, ns, name, key, body, q)
        return self._status(405, "MethodNotAllowed", method)

    def _kind(self, api_version, plural):
        for k, (p, _n) in (self.discovery.get(api_version) or {}).items():
            if p == plural:
                return k
        return None

    def _status(self, code, reason, message, details=None):
        body = {"kind": "Status", "status": "Failure", "reason": reason, "message": message, "code": code}
        if details:
            body["details"] = details
        return code, {}, json.dumps(body)

    def _list(self, api_version, plural, ns, q):
        selector = {}
        for term in (q.get("labelSelector") or "").split(","):
            if "=" in term:
                k, _, v = term.partition("=")
                selector[k] = v
        items = []
        for (av, p, ons, _name), obj in sorted(self.store.items(), key=lambda kv: str(kv[0])):
            if av != api_version or p != plural or (ns is not None and ons != ns):
                continue
            labels = obj["metadata"].get("labels") or {}
            if all(labels.get(k) == v for k, v in selector.items()):
                item = copy.deepcopy(obj)
                if not api_version.endswith(".com/v1"):  # built-in lists carry no kind/apiVersion per item
                    item.pop("kind", None)
                    item.pop("apiVersion", None)
                items.append(item)
        limit = int(q.get("limit") or 0) or len(items) or 1
        start = int(q.get("continue") or 0)
        page = items[start : start + limit]
        meta = {"resourceVersion": str(self.rv)}
        if start + limit < len(items):
            meta["continue"] = str(start + limit)
        return 200, {}, json.dumps({"kind": "List", "metadata": meta, "items": page})

    def _establish(self, crd):
        spec = crd["spec"]
        crd["status"] = {"conditions": [{"type": "NamesAccepted", "status": "True"}, {"type": "Established", "status": "True"}]}
        for v in spec["versions"]:
            kinds = self.discovery.setdefault("%s/%s" % (spec["group"], v["name"]), {})
            kinds[spec["names"]["kind"]] = (spec["names"]["plural"], spec["scope"] == "Namespaced")

    def _apply(self, api_version, kind, plural, ns, name, key, body, q):
        dry = q.get("dryRun") == "All"
        manager = q.get("fieldManager")
        force = q.get("force") == "true"
        if ns is not None and ns not in self.namespaces:
            return self._status(404, "NotFound", 'namespaces "%s" not found' % ns)
        body = copy.deepcopy(body)
        if kind == "ConfigMap":
            bad = [k for k, v in (body.get("data") or {}).items() if not isinstance(v, str)]
            if bad:  # what kube-apiserver 1.36 answers (HTTP 500, no reason) for a schema mismatch
                msg = "failed to create typed patch object (%s/%s; /v1, Kind=ConfigMap): .data.%s: expected string, got %r" % (
                    ns,
                    name,
                    bad[0],
                    3,
                )
                return 500, {}, json.dumps({"kind": "Status", "status": "Failure", "message": msg, "code": 500})
            if name != name.lower():
                return self._status(422, "Invalid", 'ConfigMap "%s" is invalid: metadata.name: Invalid value: "%s"' % (name, name))
        if kind == "Secret" and body.get("stringData"):
            data = dict(body.get("data") or {})
            for k, v in body.pop("stringData").items():
                data[k] = base64.b64encode(v.encode()).decode()
            body["data"] = data
        existing = self.store.get(key)
        owners = dict(self.owners.get(key) or {})
        leaves = {
            k: v for k, v in _leaves(body).items() if k not in (("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace"))
        }
        conflicts = []
        if existing is not None:
            current = _leaves(existing)
            for path, value in leaves.items():
                owner = owners.get(path)
                if owner and owner != manager and current.get(path) != value:
                    conflicts.append((owner, path))
        if conflicts and not force:
            causes = [
                {"reason": "FieldManagerConflict", "message": 'conflict with "%s"' % o, "field": "." + ".".join(p)} for o, p in conflicts
            ]
            text = "; ".join('conflict with "%s": .%s' % (o, ".".join(p)) for o, p in conflicts)
            msg = "Apply failed with %d conflict: %s" % (len(conflicts), text)
            return self._status(409, "Conflict", msg, {"causes": causes})
        for path in leaves:
            owners[path] = manager
        # fields this manager owned but no longer sends are removed
        for path, owner in list(owners.items()):
            if owner == manager and path not in leaves:
                del owners[path]
        new = copy.deepcopy(existing) if existing else {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}
        if ns:
            new["metadata"]["namespace"] = ns
        for path, value in leaves.items():
            cur = new
            for p in path[:-1]:
                cur = cur.setdefault(p, {})
            cur[path[-1]] = copy.deepcopy(value)
        if existing:
            for path, owner in (self.owners.get(key) or {}).items():
                if owner == manager and path not in leaves:
                    cur = new
                    for p in path[:-1]:
                        cur = cur.get(p, {})
                    cur.pop(path[-1], None)
        managers = sorted(set(owners.values()))
        new["metadata"]["managedFields"] = [
            {"manager": m, "operation": "Apply", "fieldsV1": sorted(".".join(p) for p, o in owners.items() if o == m)} for m in managers
        ]
        if existing is None:
            new["metadata"]["uid"] = "uid-%s" % name
            new["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
        changed = existing is None or {k: v for k, v in new.items() if k != "status"} != {
            k: v for k, v in existing.items() if k != "status"
        }
        if dry:
            if existing is None:
                new["metadata"].pop("resourceVersion", None)
            return (201 if existing is None else 200), {}, json.dumps(new)
        if changed:
            self.rv += 1
            new["metadata"]["resourceVersion"] = str(self.rv)
            if kind == "Namespace":
                self.namespaces.add(name)
            if kind == "CustomResourceDefinition":
                self._crd_gets[name] = 0
                new.pop("status", None)
                if self.establish_after == 0:
                    self._establish(new)
        self.store[key] = new
        self.owners[key] = owners
        return (201 if existing is None else 200), {}, json.dumps(new)

    # -- helpers for tests --
    def get(self, api_version, plural, ns, name):
        return self.store.get((api_version, plural, ns, name))

    def writes(self):
        return [c for c in self.calls if c[0] in ("PATCH", "DELETE") and c[2].get("dryRun") != "All"]


def run_module(main, args, send, monkeypatch, capsys, check=False, diff=False):
    """One run of a module over _k8s.K8sClient (its main), every API call answered by `send`
    (FakeKube.send or a scripted one) without sleeping: (exit code, parsed result, raw stdout)."""
    import pytest
    from ansible.module_utils.testing import patch_module_args

    from ansible_collections.llm.platform.plugins.module_utils import _k8s

    def from_kubeconfig(cls, kubeconfig=None, context=None, **kw):
        client = cls(None, **kw)
        client._send = send
        client.sleep = lambda s: None
        return client

    monkeypatch.setattr(_k8s.K8sClient, "from_kubeconfig", classmethod(from_kubeconfig))
    with patch_module_args(dict(args, _ansible_check_mode=check, _ansible_diff=diff)), pytest.raises(SystemExit) as exc:
        main()
    out = capsys.readouterr().out
    return exc.value.code, json.loads(out), out
