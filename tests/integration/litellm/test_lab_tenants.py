"""The whole tenants role against the lab's real kube-apiserver and a real LiteLLM:
namespaces with labels, the Kueue LocalQueue, key Secrets whose keys work on /v1,
a -vvv run that leaks no master or virtual key, rerun and check with changed=0, a lost
Secret that gets a rotated key (the old one works through the grace period), removing
a GPU queue, and prune."""

from __future__ import annotations

import base64
import os
import re
import secrets
import time

import pytest
from conftest import REPO_ROOT, run_playbook, tenant, tenants_vars

pytestmark = [pytest.mark.litellm, pytest.mark.lab]

# Unique per session: several suites may share the lab (and prune only within a set).
SET = "itlab-" + secrets.token_hex(3)
A, B = SET + "-a", SET + "-b"
RAW_KEY = re.compile(r"sk-[A-Za-z0-9_\-]{16,}")


def lab_kubeconfig():
    base = os.environ.get("LLM_PLATFORM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "llm-platform")
    return os.path.join(base, "lab", "lab", "kubeconfig")


@pytest.fixture(scope="module")
def k8s():
    kubernetes = pytest.importorskip("kubernetes")
    path = lab_kubeconfig()
    if not os.path.exists(path):
        pytest.skip("the lab is not running (no %s)" % path)
    api = kubernetes.config.new_client_from_config(config_file=path)
    core = kubernetes.client.CoreV1Api(api)
    try:
        core.list_namespace(limit=1, _request_timeout=5)
    except Exception as e:  # the lab is down
        pytest.skip("the lab API server does not answer: %s" % e)
    return core, kubernetes.client.CustomObjectsApi(api), kubernetes.client.ApiextensionsV1Api(api)


@pytest.fixture
def own_namespaces(k8s):
    """Whatever happens, leave no namespace of this session's tenant set behind."""
    yield
    core = k8s[0]
    for ns in core.list_namespace(label_selector="llm-platform/tenant-set=%s" % SET).items:
        core.delete_namespace(ns.metadata.name)


def ns_labels(core, name):
    try:
        ns = core.read_namespace(name)
    except Exception:
        return None
    if ns.status.phase == "Terminating":
        return None
    return ns.metadata.labels or {}


def secret_key(core, ns, name):
    s = core.read_namespaced_secret(name, ns)
    return base64.b64decode(s.data["api-key"]).decode(), s.metadata.annotations


def chat(litellm, key):
    body = {"model": "qwen-local", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    return litellm.api("POST", "/v1/chat/completions", body, key=key)[0]


def wait_gone(core, name, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ns_labels(core, name) is None:
            return True
        time.sleep(0.5)
    return False


def test_tenants_role_on_the_lab(db, k8s, own_namespaces, tmp_path):
    core, custom, ext = k8s
    has_kueue = bool(ext.list_custom_resource_definition(field_selector="metadata.name=localqueues.kueue.x-k8s.io").items)

    tenants = [
        tenant(A, 10.0, "30d", gpu_queue={"gpus": 1}, keys=[{"name": "default"}, {"name": "ci", "max_usd": 1.0}]),
        tenant(B, 5.0, "7d"),
    ]

    def play(ts, *args, **extra):
        data = tenants_vars(db, ts, tenants_manage_k8s=True, tenants_set=SET, tenants_kubeconfig=lab_kubeconfig(), **extra)
        return run_playbook(db, tmp_path, data, *args, env={"ANSIBLE_LOG_PATH": str(tmp_path / "ansible.log")})

    marker = time.time()
    first = play(tenants, "-vvv")
    assert first.rc == 0, first

    # Namespaces and their labels.
    a, b = ns_labels(core, A), ns_labels(core, B)
    assert a["app.kubernetes.io/managed-by"] == "llm-platform" and a["llm-platform/tenant"] == A
    assert a["llm-platform/kueue-managed"] == "true" and "llm-platform/kueue-managed" not in b
    if has_kueue:
        lq = custom.get_namespaced_custom_object("kueue.x-k8s.io", "v1beta2", A, "localqueues", "gpu")
        assert lq["spec"]["clusterQueue"] == "gpu-cq"
        assert lq["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "llm-platform"

    # Key Secrets: a working key each, matching LiteLLM's alias and fingerprint.
    keys = {}
    for ns, name in ((A, "litellm-key-default"), (A, "litellm-key-ci"), (B, "litellm-key-default")):
        raw, ann = secret_key(core, ns, name)
        keys[ann["llm-platform/key-alias"]] = raw
        assert chat(db, raw) == 200
    assert sorted(keys) == [A + "-ci", A + "-default", B + "-default"]

    # -vvv leaked no master key and no virtual key, in output or in files the run wrote.
    secrets = [db.master_key, *keys.values()]
    assert not [s for s in secrets if s in first.out]
    assert not RAW_KEY.findall(first.out)
    written = []
    for root in (str(tmp_path), REPO_ROOT, os.path.expanduser("~/.ansible")):
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in (".git", "collections", "node_modules")]
            for f in filenames:
                p = os.path.join(dirpath, f)
                try:
                    if os.path.getmtime(p) >= marker and not p.endswith(".json"):  # vars files hold no secret (checked below)
                        written.append(p)
                except OSError:
                    pass
    written += [str(p) for p in tmp_path.glob("vars-*.json")]
    assert str(tmp_path / "ansible.log") in written
    for p in written:
        with open(p, "rb") as f:
            data = f.read()
        for s in secrets:
            assert s.encode() not in data, p

    # Rerun and check mode: nothing to do.
    again = play(tenants)
    assert again.rc == 0 and again.changed == 0, again
    check = play(tenants, "--check", "--diff")
    assert check.rc == 0 and check.changed == 0, check

    # A lost Secret: the tenant gets a new key; the old one works through the grace period.
    core.delete_namespaced_secret("litellm-key-default", B)
    healed = play(tenants)
    assert healed.rc == 0, healed
    new_raw, _ = secret_key(core, B, "litellm-key-default")
    assert new_raw != keys[B + "-default"]
    assert chat(db, new_raw) == 200 and chat(db, keys[B + "-default"]) == 200
    aliases = sorted(r[0] for r in db.psql("SELECT key_alias FROM \"LiteLLM_VerificationToken\" WHERE team_id = '%s'" % B))  # noqa: S608 - test-made name
    assert aliases[0] == B + "-default" and aliases[1].startswith(B + "-default--rotated-")

    # GPU queue removed: LocalQueue and Kueue label go.
    tenants[0].pop("gpu_queue")
    dropped = play(tenants)
    assert dropped.rc == 0, dropped
    assert "llm-platform/kueue-managed" not in ns_labels(core, A)
    if has_kueue:
        lqs = custom.list_namespaced_custom_object("kueue.x-k8s.io", "v1beta2", A, "localqueues")["items"]
        assert lqs == []

    # Prune B: keys revoked, team gone, namespace gone.
    pruned = play(tenants[:1], tenants_prune=True)
    assert pruned.rc == 0, pruned
    assert chat(db, new_raw) == 401 and chat(db, keys[B + "-default"]) == 401
    assert db.api("GET", "/team/info?team_id=" + B)[0] == 404
    assert wait_gone(core, B)
    assert chat(db, keys[A + "-default"]) == 200
    final = play(tenants[:1], tenants_prune=True)
    assert final.rc == 0 and final.changed == 0, final

    # Offboard the rest so the lab is left as found.
    assert play([], tenants_prune=True).rc == 0
    assert wait_gone(core, A)
