"""llm.platform.k8s_apply against the lab's real kube-apiserver, run as users run it (ansible-playbook).

Covers: create, no-op (changed=false, no write, resourceVersions kept), a one-field change (the
diff names the field), check mode (nothing changes), prune, a CRD and its objects in one call, the
invalid-object guarantee (nothing written; and the documented exception for a new Namespace), a
conflict with another field manager (and force_conflicts), Secret values in no output.
Every test works in namespaces of its own (labkit.unique) and deletes them afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

import pytest
import yaml

pytestmark = pytest.mark.lab

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def apply(lab, objects, check=False, diff=False, verbose=False, **opts):
    """Run the module once in a one-task play; (task result, full stdout)."""
    args = dict(opts, kubeconfig=lab.KUBECONFIG, objects=objects)
    play = [
        {
            "name": "k8s_apply",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": "apply", "llm.platform.k8s_apply": "{{ k8s_apply_args }}", "ignore_errors": True}],
        }
    ]
    with tempfile.TemporaryDirectory(prefix="k8s-apply-") as tmp:
        path = os.path.join(tmp, "play.yml")
        with open(path, "w", encoding="utf-8") as fh:
            yaml.safe_dump(play, fh)
        with open(os.path.join(tmp, "vars.json"), "w", encoding="utf-8") as fh:
            json.dump({"k8s_apply_args": args}, fh)
        cmd = lab.local_play_argv(path, os.path.join(tmp, "vars.json"))
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbose:
            cmd.append("-vvv")
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
        if not verbose:
            env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    if verbose:
        return None, proc.stdout + proc.stderr
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("no JSON from ansible-playbook:\n%s\n%s" % (proc.stdout[-3000:], proc.stderr[-3000:])) from None
    return data["plays"][0]["tasks"][0]["hosts"]["localhost"], proc.stdout


def ns_obj(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def cm(name, ns, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}


def deployment(name, ns, replicas=1, image="registry.k8s.io/pause:3.10"):
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": image}]}},
        },
    }


def rv(lab, kind, ns, name):
    return lab.kubectl_json("get", kind, name, "-n", ns)["metadata"]["resourceVersion"]


def exists(lab, *args):
    return lab.kubectl("get", *args, "--ignore-not-found", "-o", "name", check=False).stdout.strip() != ""


def writes(res):
    return [r for r in res["requests"] if r["method"] in ("PATCH", "DELETE", "POST", "PUT") and not r["dry_run"]]


@pytest.fixture
def namespaces(lab):
    made = []

    def make(prefix="k8sapply", create=True):
        name = lab.unique(prefix)
        made.append(name)
        if create:
            lab.kubectl("create", "namespace", name)
        return name

    yield make
    for name in made:
        lab.kubectl("delete", "namespace", name, "--ignore-not-found", "--wait=false", check=False)


def test_create_noop_and_one_field_change(lab, namespaces):
    ns = namespaces(create=False)
    objs = [ns_obj(ns), cm("a", ns, x="1"), cm("b", ns, x="2"), deployment("web", ns)]
    res, _ = apply(lab, objs)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True
    assert [(o["kind"], o["action"]) for o in res["objects"]] == [
        ("Namespace", "created"),
        ("ConfigMap", "created"),
        ("ConfigMap", "created"),
        ("Deployment", "created"),
    ]
    before = {n: rv(lab, "configmap", ns, n) for n in ("a", "b")}
    before["web"] = rv(lab, "deployment", ns, "web")

    res, _ = apply(lab, objs)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is False, [o for o in res["objects"] if o["changed"]]
    assert {o["action"] for o in res["objects"]} == {"unchanged"}
    assert writes(res) == [], "a no-op run writes nothing"
    lists = [r["path"] for r in res["requests"] if r["method"] == "GET" and r["path"].endswith("/configmaps")]
    assert lists == [f"/api/v1/namespaces/{ns}/configmaps"], "one LIST per kind and namespace"
    assert not [r for r in res["requests"] if r["method"] == "GET" and "/configmaps/" in r["path"]], "never a GET per object"
    after = {n: rv(lab, "configmap", ns, n) for n in ("a", "b")}
    after["web"] = rv(lab, "deployment", ns, "web")
    assert after == before

    objs[2] = cm("b", ns, x="changed")
    res, _ = apply(lab, objs, diff=True)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True
    changed = [o for o in res["objects"] if o["changed"]]
    assert [(o["name"], o["action"], o["changed_fields"]) for o in changed] == [("b", "configured", ["data.x"])]
    assert changed[0]["resource_version"] == rv(lab, "configmap", ns, "b") != before["b"]
    assert rv(lab, "configmap", ns, "a") == before["a"] and rv(lab, "configmap", ns, "b") != before["b"]
    (d,) = res["diff"]
    assert d["before_header"] == f"ConfigMap {ns}/b"
    assert d["before"]["data"] == {"x": "2"} and d["after"]["data"] == {"x": "changed"}
    assert "managedFields" not in d["after"]["metadata"]


def test_check_mode_changes_nothing(lab, namespaces):
    ns = namespaces()
    apply(lab, [cm("a", ns, x="1"), deployment("web", ns, replicas=1)])
    before = (rv(lab, "configmap", ns, "a"), rv(lab, "deployment", ns, "web"))
    objs = [cm("a", ns, x="2"), deployment("web", ns, replicas=3), cm("new", ns, y="1")]
    res, _ = apply(lab, objs, check=True, diff=True)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True
    actions = {o["name"]: (o["action"], o["changed_fields"]) for o in res["objects"]}
    assert actions == {"a": ("configured", ["data.x"]), "web": ("configured", ["spec.replicas"]), "new": ("created", [])}
    assert writes(res) == [] and all(r["dry_run"] for r in res["requests"] if r["method"] == "PATCH")
    assert (rv(lab, "configmap", ns, "a"), rv(lab, "deployment", ns, "web")) == before
    assert lab.kubectl_json("get", "configmap", "a", "-n", ns)["data"] == {"x": "1"}
    assert not exists(lab, "configmap", "new", "-n", ns)
    assert len(res["diff"]) == 3


def test_prune_deletes_what_left_the_list(lab, namespaces):
    ns = namespaces()
    sel = f"llm.platform/set={ns}"
    lab.kubectl("create", "configmap", "foreign", "-n", ns, "--from-literal=k=v")
    res, _ = apply(lab, [cm("a", ns, x="1"), cm("b", ns, x="1")], prune_selector=sel)
    assert not res.get("failed"), res.get("msg")
    assert lab.kubectl_json("get", "configmap", "b", "-n", ns)["metadata"]["labels"] == {"llm.platform/set": ns}

    res, _ = apply(lab, [cm("a", ns, x="1")], prune_selector=sel, check=True)
    assert [(o["name"], o["action"]) for o in res["objects"]] == [("a", "unchanged"), ("b", "pruned")]
    assert exists(lab, "configmap", "b", "-n", ns), "check mode only dry-runs the delete"

    res, _ = apply(lab, [cm("a", ns, x="1")], prune_selector=sel)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True
    assert [(o["name"], o["action"]) for o in res["objects"]] == [("a", "unchanged"), ("b", "pruned")]
    lab.wait_for(lambda: not exists(lab, "configmap", "b", "-n", ns), 30, what="b deleted")
    assert exists(lab, "configmap", "a", "-n", ns) and exists(lab, "configmap", "foreign", "-n", ns)

    res, _ = apply(lab, [cm("a", ns, x="1")], prune_selector=sel)
    assert res["changed"] is False


def test_crd_and_its_objects_in_one_call(lab, namespaces):
    ns = namespaces(create=False)
    group = f"{lab.unique('t')}.example.com"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}},
                        }
                    },
                }
            ],
        },
    }
    widgets = [
        {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": f"w{i}", "namespace": ns}, "spec": {"size": i}}
        for i in range(3)
    ]
    try:
        objs = [*widgets, ns_obj(ns), crd]  # deliberately out of order
        res, _ = apply(lab, objs)
        assert not res.get("failed"), res.get("msg")
        assert [o["kind"] for o in res["objects"]] == ["CustomResourceDefinition", "Namespace", "Widget", "Widget", "Widget"]
        assert {o["action"] for o in res["objects"]} == {"created"}
        assert lab.kubectl_json("get", f"widgets.{group}", "w2", "-n", ns)["spec"] == {"size": 2}
        res, _ = apply(lab, objs)
        assert not res.get("failed"), res.get("msg")
        assert res["changed"] is False and writes(res) == []
        # the schema is enforced through the dry run: a wrong type is refused before any write
        bad = [*objs[:2], dict(widgets[2], spec={"size": "three"}), cm("side", ns, x="1")]
        res, _ = apply(lab, bad)
        assert res.get("failed") and res["applied"] == []
        (err,) = res["errors"]
        # kube-apiserver answers a schema mismatch in an apply body with HTTP 500 (not retried)
        assert err["object"] == f"Widget {ns}/w2" and err["status"] == 500 and err["attempts"] == 1
        assert ".spec.size: expected numeric" in err["message"] and "does not match its kind's schema" in res["msg"]
        assert not exists(lab, "configmap", "side", "-n", ns)
    finally:
        lab.kubectl("delete", "crd", f"widgets.{group}", "--ignore-not-found", "--wait=false", check=False)


def test_invalid_object_means_nothing_was_applied(lab, namespaces):
    ns = namespaces()
    objs = [
        cm("good", ns, x="1"),
        deployment("bad", ns, replicas=-1),
        cm("good2", ns, x="1"),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Not_A_Name", "namespace": ns}},
    ]
    res, _ = apply(lab, objs)
    assert res.get("failed") is True and res["changed"] is False and res["applied"] == []
    names = [e["object"] for e in res["errors"]]
    assert names == [f"Deployment {ns}/bad", f"ConfigMap {ns}/Not_A_Name"], "every rejected object is named"
    assert all(e["status"] == 422 for e in res["errors"])
    assert "spec.replicas" in res["errors"][0]["message"]
    assert f"Deployment {ns}/bad: HTTP 422 Invalid" in res["msg"]
    for kind, name in (("configmap", "good"), ("configmap", "good2"), ("deployment", "bad")):
        assert not exists(lab, kind, name, "-n", ns), f"{kind} {name} was written"


def test_invalid_object_in_a_new_namespace_writes_only_the_namespace(lab, namespaces):
    ns = namespaces(create=False)
    res, _ = apply(lab, [ns_obj(ns), cm("ok", ns, x="1"), deployment("bad", ns, replicas=-1)])
    assert res.get("failed") is True
    assert res["applied"] == [f"Namespace {ns}"], "the documented exception: only the Namespace"
    assert res["errors"][0]["object"] == f"Deployment {ns}/bad"
    assert not exists(lab, "configmap", "ok", "-n", ns)


def test_conflict_with_another_field_manager(lab, namespaces):
    ns = namespaces()
    other = json.dumps(cm("shared", ns, x="theirs"))
    lab.kubectl("apply", "--server-side", "--field-manager=someone-else", "-f", "-", input=other)
    before = rv(lab, "configmap", ns, "shared")
    res, _ = apply(lab, [cm("mine", ns, y="1"), cm("shared", ns, x="ours")])
    assert res.get("failed") is True and res["applied"] == []
    (err,) = res["errors"]
    assert err["object"] == f"ConfigMap {ns}/shared" and err["status"] == 409 and err["attempts"] == 1
    assert "someone-else" in err["message"] and "force_conflicts=true" in res["msg"]
    assert rv(lab, "configmap", ns, "shared") == before and not exists(lab, "configmap", "mine", "-n", ns)

    res, _ = apply(lab, [cm("mine", ns, y="1"), cm("shared", ns, x="ours")], force_conflicts=True)
    assert not res.get("failed"), res.get("msg")
    assert {o["name"]: o["action"] for o in res["objects"]} == {"mine": "created", "shared": "configured"}
    live = lab.kubectl_json("get", "configmap", "shared", "-n", ns, "--show-managed-fields")
    assert live["data"] == {"x": "ours"}
    owners = {m["manager"] for m in live["metadata"]["managedFields"] if "f:x" in json.dumps(m.get("fieldsV1", {}))}
    assert owners == {"llm-platform"}


def test_secret_values_appear_in_no_output(lab, namespaces):
    ns = namespaces()
    first, second = "canary-" + lab.unique("one"), "canary-" + lab.unique("two")
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": ns}, "stringData": {"password": first}}
    res, out = apply(lab, [secret], diff=True)
    assert not res.get("failed"), res.get("msg")
    assert first not in out
    _res, out = apply(lab, [dict(secret, stringData={"password": second})], diff=True, verbose=True)
    assert second not in out and first not in out, "not in the result, the diff or the -vvv invocation echo"
    assert "VALUE_REDACTED (changed)" in out
    stored = lab.kubectl_json("get", "secret", "s", "-n", ns)["data"]["password"]
    assert stored not in out
    res, out = apply(lab, [dict(secret, stringData={"password": second})], diff=True)
    assert res["changed"] is False and second not in out, "stringData re-applied unchanged is a no-op"
