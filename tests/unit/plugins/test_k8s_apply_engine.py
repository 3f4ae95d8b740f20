"""k8s_apply's engine and module against an in-memory API server (tests/unit/plugins/fake_kube.py):
one LIST per kind and namespace, validate-first, changed from resourceVersion and content, CRDs first,
prune, retries, conflicts, check mode, and no Secret value in any output."""

from __future__ import annotations

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_kube import FakeKube, run_module

from ansible_collections.llm.platform.plugins.module_utils import _k8s
from ansible_collections.llm.platform.plugins.modules import k8s_apply

OPTS = dict(field_manager="llm-platform", force_conflicts=False, prune_selector=None, namespace="default", wait_crds_timeout=5)


def cm(name, ns="default", **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}


def crd(group="example.com", kind="Widget", plural="widgets", scope="Namespaced"):
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "%s.%s" % (plural, group)},
        "spec": {
            "group": group,
            "scope": scope,
            "names": {"kind": kind, "plural": plural},
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }


def widget(name, ns="default", size=1):
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name, "namespace": ns}, "spec": {"size": size}}


@pytest.fixture
def kube():
    return FakeKube()


@pytest.fixture
def client(kube):
    c = _k8s.K8sClient(None, retries=3, sleep=lambda s: None)
    c._send = kube.send
    return c


def run(client, objects, check=False, **opts):
    return _k8s.apply_objects(client, objects, dict(OPTS, **opts), check_mode=check, sleep=lambda s: None)


def by_name(results):
    return {r["name"]: r for r in results}


def test_create_then_noop_then_one_field(kube, client):
    objs = [cm("a", x="1"), cm("b", x="2"), cm("c", "other", x="3")]
    kube.namespaces.add("other")
    res, diffs = run(client, objs)
    assert [r["action"] for r in res] == ["created"] * 3 and len(diffs) == 3
    kube.calls.clear()
    res, diffs = run(client, objs)
    assert [r["action"] for r in res] == ["unchanged"] * 3 and diffs == []
    assert not any(r["changed"] for r in res)
    assert kube.writes() == [], "a no-op run writes nothing"
    lists = [c for c in kube.calls if c[0] == "GET" and c[1].endswith("/configmaps")]
    assert sorted(c[1] for c in lists) == ["/api/v1/namespaces/default/configmaps", "/api/v1/namespaces/other/configmaps"]
    assert not [c for c in kube.calls if c[0] == "GET" and "/configmaps/" in c[1]], "never a GET per object"
    rv = kube.get("v1", "configmaps", "default", "b")["metadata"]["resourceVersion"]
    res, diffs = run(client, [cm("a", x="1"), cm("b", x="changed"), cm("c", "other", x="3")])
    r = by_name(res)
    assert r["b"]["action"] == "configured" and r["b"]["changed"] and r["b"]["changed_fields"] == ["data.x"]
    assert r["b"]["resource_version"] != rv and not r["a"]["changed"]
    assert len(diffs) == 1 and diffs[0]["before"]["data"] == {"x": "2"} and diffs[0]["after"]["data"] == {"x": "changed"}
    assert diffs[0]["before_header"] == "ConfigMap default/b"


def test_check_mode_writes_nothing_and_reports_what_would_change(kube, client):
    run(client, [cm("a", x="1")])
    store = repr(sorted(kube.store.items()))
    writes = len(kube.writes())
    res, diffs = run(client, [cm("a", x="2"), cm("new", x="1")], check=True)
    assert repr(sorted(kube.store.items())) == store and len(kube.writes()) == writes
    assert [c[2].get("dryRun") for c in kube.calls if c[0] == "PATCH"][-2:] == ["All", "All"]
    r = by_name(res)
    assert r["a"]["action"] == "configured" and r["a"]["changed_fields"] == ["data.x"]
    assert r["new"]["action"] == "created" and r["new"]["validated"]
    assert len(diffs) == 2


def test_an_invalid_object_means_nothing_is_written(kube, client):
    objs = [cm("good", x="1"), cm("bad", x=3), cm("Bad2", y="4")]
    with pytest.raises(_k8s.BatchError) as exc:
        run(client, objs)
    assert kube.writes() == [] and kube.store == {}
    err = exc.value
    assert [e.obj for e in err.errors] == ["ConfigMap default/bad", "ConfigMap default/Bad2"], "every rejected object is named"
    assert err.errors[0].status == 500 and err.errors[0].attempts == 1, "a schema mismatch is not retried"
    assert ".data.x: expected string" in err.errors[0].message
    assert err.errors[1].status == 422 and "metadata.name: Invalid value" in err.errors[1].message
    assert "ConfigMap default/bad: HTTP 500 Invalid" in str(err) and "ConfigMap default/Bad2: HTTP 422 Invalid" in str(err)


def test_unknown_kind_and_missing_fields_fail_before_any_call_that_writes(kube, client):
    with pytest.raises(ValueError, match=r"ConfigMap default/x: the server has no kind Gizmo|no kind Gizmo"):
        run(client, [cm("x"), {"apiVersion": "v1", "kind": "Gizmo", "metadata": {"name": "g"}}])
    with pytest.raises(ValueError, match=r"objects\[1\] .*has no metadata.name"):
        run(client, [cm("x"), {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}])
    with pytest.raises(ValueError, match="listed twice"):
        run(client, [cm("x"), cm("x", y="1")])
    assert kube.writes() == []


def test_default_namespace_and_cluster_scoped_namespace_ignored(kube, client):
    obj = cm("a", x="1")
    del obj["metadata"]["namespace"]
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n1", "namespace": "junk"}}
    res, _ = run(client, [obj, ns], namespace="kube-system")
    r = by_name(res)
    assert r["a"]["namespace"] == "kube-system" and r["n1"]["namespace"] is None
    assert kube.get("v1", "namespaces", None, "n1") is not None


def test_crd_and_its_objects_in_one_call(kube, client):
    kube.establish_after = 2  # the CRD reads Established on the third GET
    objs = [widget("w1", "team-a"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}, crd()]
    res, _ = run(client, objs)
    assert [(r["kind"], r["action"]) for r in res] == [
        ("CustomResourceDefinition", "created"),
        ("Namespace", "created"),
        ("Widget", "created"),
    ]
    patches = [c[1] for c in kube.writes()]
    assert patches == [
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com",
        "/api/v1/namespaces/team-a",
        "/apis/example.com/v1/namespaces/team-a/widgets/w1",
    ]
    crd_gets = [c for c in kube.calls if c[0] == "GET" and c[1].endswith("/widgets.example.com")]
    assert len(crd_gets) == 3, "waited for Established"
    res, _ = run(client, objs)
    assert not any(r["changed"] for r in res)


def test_check_mode_with_a_new_crd_reports_its_objects_unvalidated(kube, client):
    res, _ = run(client, [crd(), widget("w1")], check=True)
    r = by_name(res)
    assert r["w1"]["action"] == "created" and r["w1"]["validated"] is False
    assert r["widgets.example.com"]["validated"] is True
    assert kube.store == {}


def test_invalid_object_behind_a_new_namespace_writes_only_the_namespace(kube, client):
    objs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fresh"}}, cm("ok", "default", x="1"), cm("bad", "fresh", x=1)]
    with pytest.raises(_k8s.BatchError) as exc:
        run(client, objs)
    assert exc.value.applied == ["Namespace fresh"]
    assert [c[1] for c in kube.writes()] == ["/api/v1/namespaces/fresh"]


def test_prune_deletes_labelled_objects_that_left_the_list(kube, client):
    sel = "llm.platform/set=t1"
    run(client, [cm("a", x="1"), cm("b", x="1")], prune_selector=sel)
    assert kube.get("v1", "configmaps", "default", "a")["metadata"]["labels"] == {"llm.platform/set": "t1"}
    kube.store[("v1", "configmaps", "default", "foreign")] = {"metadata": {"name": "foreign", "namespace": "default", "labels": {}}}
    res, diffs = run(client, [cm("a", x="1")], prune_selector=sel, check=True)
    assert [(r["name"], r["action"]) for r in res] == [("a", "unchanged"), ("b", "pruned")]
    assert kube.get("v1", "configmaps", "default", "b") is not None, "check mode only dry-runs the delete"
    res, diffs = run(client, [cm("a", x="1")], prune_selector=sel)
    assert [(r["name"], r["action"]) for r in res] == [("a", "unchanged"), ("b", "pruned")]
    assert kube.get("v1", "configmaps", "default", "b") is None
    assert kube.get("v1", "configmaps", "default", "foreign") is not None
    assert diffs[-1]["after"] == {} and diffs[-1]["before_header"] == "ConfigMap default/b"


def test_prune_never_deletes_namespaces_or_crds(kube, client):
    sel = "s=1"
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n2"}}
    run(client, [ns, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n3"}}], prune_selector=sel)
    res, _ = run(client, [ns], prune_selector=sel)
    assert [r["action"] for r in res] == ["unchanged"]
    assert kube.get("v1", "namespaces", None, "n3") is not None


def test_conflict_with_another_manager_fails_in_the_dry_run_and_force_takes_over(kube, client):
    run(client, [cm("a", x="1")], field_manager="kubectl")
    with pytest.raises(_k8s.BatchError) as exc:
        run(client, [cm("a", x="2"), cm("b", x="1")])
    assert kube.writes()[-1][1].endswith("/a") and kube.get("v1", "configmaps", "default", "b") is None
    e = exc.value.errors[0]
    assert e.status == 409 and e.attempts == 1, "a field-manager conflict is not retried"
    assert 'conflict with "kubectl"' in e.describe() and "force_conflicts=true" in e.describe()
    res, _ = run(client, [cm("a", x="2")], force_conflicts=True)
    assert res[0]["action"] == "configured"
    assert kube.get("v1", "configmaps", "default", "a")["data"] == {"x": "2"}


def test_retries_429_5xx_and_plain_409_then_succeeds(kube, client):
    sleeps = []
    client.sleep = sleeps.append
    kube.faults = [(429, {"reason": "TooManyRequests"}), 503, (409, {"reason": "Conflict", "message": "modified"})]
    res, _ = run(client, [cm("a", x="1")])
    assert res[0]["action"] == "created" and client.retried == 3 and sleeps == [0.5, 1.0, 2.0]


def test_retries_are_bounded_and_the_error_names_the_call(kube, client):
    kube.faults = [500] * 10
    with pytest.raises(_k8s.K8sError) as exc:
        run(client, [cm("a", x="1")])
    assert exc.value.status == 500 and exc.value.attempts == 4 and "(after 4 attempts)" in exc.value.describe()


def test_paged_list(kube, client):
    for i in range(7):
        kube.store[("v1", "configmaps", "default", "c%d" % i)] = {
            "metadata": {"name": "c%d" % i, "namespace": "default", "resourceVersion": "1"}
        }
    items = [_k8s.Item(0, cm("c5", x="1"))]
    items[0].plural, items[0].namespaced = "configmaps", True
    kube_limit = []
    orig = kube.send

    def send(method, path, query, body, ct):
        q = dict(query)
        if method == "GET" and path.endswith("/configmaps"):
            q["limit"] = "3"
            kube_limit.append(q.get("continue"))
        return orig(method, path, list(q.items()), body, ct)

    client._send = send
    live = _k8s._list_live(client, items)
    assert len(live[("v1", "configmaps", "default")]) == 7 and kube_limit == [None, "3", "6"]
    assert items[0].live["metadata"]["name"] == "c5"


def test_secret_values_never_appear_in_results_or_diffs(kube, client):
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"password": "hunter2-plain"}}
    res, diffs = run(client, [secret])
    stored = kube.get("v1", "secrets", "default", "s")["data"]["password"]
    out = json.dumps([res, diffs])
    assert "hunter2-plain" not in out and stored not in out
    secret2 = dict(secret, stringData={"password": "second-value"})
    res, diffs = run(client, [secret2])
    out = json.dumps([res, diffs])
    assert "second-value" not in out and stored not in out
    assert res[0]["changed_fields"] == ["data.password"] and diffs[0]["after"]["data"]["password"] == _k8s.REDACTED_CHANGED


# -- the module end to end (argument spec, check mode, diff, failures, invocation echo) --
def module(args, kube, monkeypatch, capsys, check=False, diff=False):
    return run_module(k8s_apply.main, args, kube.send, monkeypatch, capsys, check=check, diff=diff)


def test_module_apply_diff_and_idempotence(kube, monkeypatch, capsys):
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "top-secret-value"}}
    args = {"objects": [cm("a", x="1"), secret], "kubeconfig": "/dev/null"}
    rc, res, out = module(args, kube, monkeypatch, capsys, diff=True)
    assert rc == 0 and res["changed"] and len(res["diff"]) == 2
    assert "top-secret-value" not in out, "not in results, diff or invocation"
    assert res["invocation"]["module_args"]["objects"][1]["stringData"] == {"k": _k8s.REDACTED}
    rc, res, _ = module(args, kube, monkeypatch, capsys, check=True, diff=True)
    assert rc == 0 and res["changed"] is False and res["diff"] == []
    assert all(r["action"] == "unchanged" for r in res["objects"])
    assert all(not r["dry_run"] for r in res["requests"] if r["method"] == "GET")


def test_module_failure_is_structured(kube, monkeypatch, capsys):
    rc, res, _ = module({"objects": [cm("bad", x=1)]}, kube, monkeypatch, capsys)
    assert rc == 1 and res["failed"] and res["applied"] == [] and res["changed"] is False
    assert res["errors"][0]["object"] == "ConfigMap default/bad" and res["errors"][0]["status"] == 500
    assert "ConfigMap default/bad: HTTP 500 Invalid" in res["msg"]
    rc, res, _ = module({"objects": [cm("a")], "prune_selector": "a!=b"}, kube, monkeypatch, capsys)
    assert rc == 1 and "equality-based" in res["msg"]


def test_a_failed_list_names_the_kind_and_namespace(kube, client):
    orig = kube.send

    def send(method, path, query, body, ct):
        if method == "GET" and path.endswith("/configmaps"):
            return 403, {}, json.dumps({"reason": "Forbidden", "message": 'configmaps is forbidden: User "u" cannot list'})
        return orig(method, path, query, body, ct)

    client._send = send
    with pytest.raises(_k8s.K8sError) as exc:
        run(client, [cm("a", x="1")])
    assert exc.value.describe() == 'LIST ConfigMap in namespace default: HTTP 403 Forbidden: configmaps is forbidden: User "u" cannot list'
    assert kube.writes() == []


def _after_first_list(kube, plural, mutate):
    """Let a "controller" write the stored objects right after the module's LIST of ``plural``."""
    send = kube.send
    done = []

    def racing(method, path, query, body, content_type):
        answer = send(method, path, query, body, content_type)
        if not done and method == "GET" and path.endswith("/" + plural):
            done.append(True)
            for key, obj in kube.store.items():
                if key[1] == plural:
                    kube.rv += 1
                    mutate(obj)
                    obj["metadata"]["resourceVersion"] = str(kube.rv)
        return answer

    kube.send = racing


def test_a_controller_writing_between_list_and_dry_run_is_not_a_change(kube, client):
    objs = [cm("a", x="1"), cm("b", x="2")]
    run(client, objs)
    _after_first_list(kube, "configmaps", lambda o: o["metadata"].setdefault("annotations", {}).update(rev="1"))
    client._send = kube.send
    writes = len(kube.writes())
    res, diffs = run(client, objs)
    assert [r["action"] for r in res] == ["unchanged", "unchanged"] and diffs == []
    assert len(kube.writes()) == writes, "the re-read shows the apply changes nothing, so nothing is written"
    gets = [c[1] for c in kube.calls if c[0] == "GET" and "/configmaps/" in c[1]]
    assert sorted(gets) == ["/api/v1/namespaces/default/configmaps/a", "/api/v1/namespaces/default/configmaps/b"]


def test_a_status_written_meanwhile_is_not_a_change_but_a_field_is(kube, client):
    run(client, [cm("a", x="1")])
    _after_first_list(kube, "configmaps", lambda o: o.update(status={"seen": True}))
    client._send = kube.send
    res, _ = run(client, [cm("a", x="1")])
    assert not res[0]["changed"] and res[0]["action"] == "unchanged"
    res, diffs = run(client, [cm("a", x="2")])
    assert res[0]["changed"] and res[0]["changed_fields"] == ["data.x"] and len(diffs) == 1
