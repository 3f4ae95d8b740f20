"""Platform core against the lab's real kube-apiserver (real upstream CRDs, kwok fleet):

- every child Application (and the AppProject) of every inventory x profile passes the real
  Argo CD CRD schema (server-side dry-run apply);
- every in-repo chart's objects, rendered with every inventory's values, are accepted
  server-side and a second apply is a no-op (kubectl diff --server-side);
- the platform playbook converges twice with changed=0 the second time, and --check --diff
  changes nothing in the cluster (resourceVersions before == after);
- the secrets playbook seeds create-if-absent, never overwrites, never prints a value.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re

import pytest
import yaml
from gitops.gitops_render import INVENTORIES, PROFILES, applications, in_repo, render_app, render_root, tool, values_for
from platformkit import apply_docs, diff_docs

pytestmark = [pytest.mark.platform, pytest.mark.lab, pytest.mark.skipif(tool("helm") is None, reason="helm not built")]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLATFORM = os.path.join(REPO, "playbooks", "platform.yml")
SECRETS = os.path.join(REPO, "playbooks", "secrets.yml")
ALL_ON = {"observability": True, "autoscaling": True, "gpu_quota": True, "kserve": True, "inference_routing": True}


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_child_applications_pass_the_argo_cd_schema(lab, inventory):
    docs = []
    for profile in PROFILES:
        docs += render_root(values_for(inventory, profile))
    docs += render_root(values_for(inventory, "full", ALL_ON))
    # One object per name: the widest profile's version wins (names are identical across profiles).
    unique = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    out = apply_docs(lab, list(unique.values()), "--dry-run=server", "-o", "json")
    accepted = json.loads(out.stdout)
    kinds = sorted({i["kind"] for i in accepted.get("items", [accepted])})
    # The app-of-apps also renders the Namespaces its layers share.
    assert kinds == ["AppProject", "Application", "Namespace"]
    assert len(accepted.get("items", [accepted])) == len(unique)


def test_the_schema_check_is_real(lab):
    """A malformed Application is rejected by the same dry-run (the CRD schema is live)."""
    app = copy.deepcopy(next(iter(applications(values_for("lab", "platform")).values())))
    app["spec"]["syncPolicy"]["retry"]["limit"] = "ten"
    out = apply_docs(lab, [app], "--dry-run=server", check=False)
    assert out.returncode != 0
    assert "limit" in out.stderr


def _chart_objects(inventory, backend=None):
    values = values_for(inventory, "full", ALL_ON)
    if backend:
        values["secrets"].update(backend)
    apps = applications(values)
    objs = []
    for name in ("secret-store", "kueue-config"):
        assert in_repo(apps[name])
        objs += render_app(apps[name])
    return objs


CHART_CASES = [(inv, None) for inv in INVENTORIES] + [
    ("byo", {"backend": "vault", "auth": "token", "vault": {"server": "https://vault.example.com:8200", "path": "secret", "role": "eso"}}),
    ("byo", {"backend": "vault", "auth": "kubernetes", "vault": {"server": "https://vault.example.com:8200", "path": "kv", "role": "eso"}}),
    # The lab's own store last, so the lab is left with it.
    ("lab", None),
]


@pytest.mark.parametrize("inventory,backend", CHART_CASES, ids=[f"{i}-{(b or {}).get('auth', 'inventory')}" for i, b in CHART_CASES])
def test_in_repo_charts_are_accepted_and_a_second_apply_is_a_no_op(lab, inventory, backend):
    objs = _chart_objects(inventory, backend)
    kinds = {o["kind"] for o in objs}
    assert {"ClusterSecretStore", "ResourceFlavor", "ClusterQueue", "WorkloadPriorityClass"} <= kinds
    apply_docs(lab, objs)
    diff = diff_docs(lab, objs)
    assert diff.returncode == 0, "second apply would change:\n" + diff.stdout[-4000:] + diff.stderr[-2000:]
    store = lab.kubectl_json("get", "clustersecretstore", "secret-store")
    expected = (backend or {}).get("backend") or values_for(inventory)["secrets"]["backend"]
    assert list(store["spec"]["provider"]) == [expected]
    cq = lab.kubectl_json("get", "clusterqueues.kueue.x-k8s.io", "gpu-cq")
    gpus = sum(p["gpus_per_node"] * p["max_nodes"] for p in values_for(inventory)["cluster"]["gpuPools"])
    quota = {r["name"]: r["nominalQuota"] for r in cq["spec"]["resourceGroups"][0]["flavors"][0]["resources"]}
    assert quota["nvidia.com/gpu"] == str(gpus)


def _snapshot(lab):
    """resourceVersion of every object the platform playbook owns."""
    out = {}
    for kind in (
        "all,configmaps,secrets,serviceaccounts,roles,rolebindings,networkpolicies",
        "applications.argoproj.io,appprojects.argoproj.io",
    ):
        for item in lab.kubectl_json("get", kind, "-n", "argocd")["items"]:
            out[(item["kind"], item["metadata"]["name"])] = item["metadata"]["resourceVersion"]
    for item in lab.kubectl_json("get", "clusterroles,clusterrolebindings,crd", "-l", "app.kubernetes.io/part-of=argocd")["items"]:
        out[(item["kind"], item["metadata"]["name"])] = item["metadata"]["resourceVersion"]
    for name in ("applications.argoproj.io", "appprojects.argoproj.io", "applicationsets.argoproj.io"):
        item = lab.kubectl_json("get", "crd", name)
        out[("CustomResourceDefinition", name)] = item["metadata"]["resourceVersion"]
    return out


def test_platform_playbook_is_idempotent_and_check_mode_changes_nothing(lab):
    first = lab.ansible_playbook(PLATFORM)
    assert first.returncode == 0, first.stdout[-6000:]
    second = lab.ansible_playbook(PLATFORM)
    assert second.returncode == 0, second.stdout[-6000:]
    assert lab.recap(second.stdout)["localhost"]["changed"] == 0, second.stdout[-6000:]
    before = _snapshot(lab)
    check = lab.ansible_playbook(PLATFORM, "--check", "--diff")
    assert check.returncode == 0, check.stdout[-6000:]
    assert lab.recap(check.stdout)["localhost"]["changed"] == 0, check.stdout[-6000:]
    after = _snapshot(lab)
    assert len(before) > 40
    assert before == after
    # What the roles left behind: a configured Argo CD, the repo, the project and the root app.
    cm = lab.kubectl_json("get", "configmap", "argocd-cm", "-n", "argocd")["data"]
    assert cm["kustomize.buildOptions"] == "--enable-helm"
    assert lab.kubectl_json("get", "configmap", "argocd-cmd-params-cm", "-n", "argocd")["data"]["server.insecure"] == "true"
    repo = lab.kubectl_json("get", "secret", "repo-llm-platform", "-n", "argocd")
    assert repo["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repository"
    root = lab.kubectl_json("get", "applications.argoproj.io", "llm-platform", "-n", "argocd")
    values = root["spec"]["source"]["helm"]["valuesObject"]
    assert values["cluster"]["substrate"] == "lab"
    assert values["secrets"]["backend"] == "kubernetes"
    assert root["spec"]["source"]["path"] == "gitops/app-of-apps"


LENGTHS = {"hex32": 64, "hex16": 32}


def _contract_generate():
    """{remote value name: its `generate` (None: the operator supplies it)} from the contract."""
    with open(os.path.join(REPO, "gitops", "secret-contract.yml"), encoding="utf-8") as fh:
        return {k["remote"]: k.get("generate") for e in yaml.safe_load(fh)["secrets"] for k in e["keys"] if "remote" in k}


def test_secrets_playbook_seeds_once_and_never_prints(lab):
    first = lab.ansible_playbook(SECRETS)
    assert first.returncode == 0, first.stdout[-6000:]
    secrets = lab.kubectl_json("get", "secrets", "-n", "platform-secrets", "-l", "llm-platform/secret-contract=true")["items"]
    values = {s["metadata"]["name"]: base64.b64decode(s["data"]["value"]).decode() for s in secrets}
    assert {"litellm-master-key", "litellm-salt-key", "vllm-api-key", "litellm-db-password"} <= set(values)
    # What the contract says of each remote value: generated (hex32 = 64, hex16 = 32 hex chars) or
    # supplied by the operator, which the playbook seeds empty so the ExternalSecret can sync.
    contract = _contract_generate()
    for name, value in values.items():
        if contract[name]:
            assert len(value) == LENGTHS[contract[name]] and int(value, 16) >= 0, name
        else:
            assert value == "", "%s is the operator's to supply: seeded empty, never invented" % name
    generated = [v for k, v in values.items() if contract[k]]
    assert len(set(generated)) == len(generated)
    second = lab.ansible_playbook(SECRETS)
    assert second.returncode == 0, second.stdout[-6000:]
    assert lab.recap(second.stdout)["localhost"]["changed"] == 0
    again = lab.kubectl_json("get", "secrets", "-n", "platform-secrets", "-l", "llm-platform/secret-contract=true")["items"]
    assert {s["metadata"]["name"]: base64.b64decode(s["data"]["value"]).decode() for s in again} == values
    for value in generated:
        assert value not in first.stdout + first.stderr + second.stdout + second.stderr


def _child(name, sync, health, message=""):
    source = {"repoURL": "https://github.com/example/llm-platform.git", "path": "gitops/charts/x", "targetRevision": "main"}
    destination = {"server": "https://kubernetes.default.svc", "namespace": "default"}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd", "labels": {"app.kubernetes.io/part-of": "llm-platform"}},
        "spec": {"project": "llm-platform", "destination": destination, "source": source},
        "status": _status(sync, health, source, destination, message),
    }


def _status(sync, health, source, destination, message=""):
    """A status as Argo CD writes it: the spec it compared against, and the last operation."""
    return {
        "sync": {"status": sync, "comparedTo": {"source": source, "destination": destination}},
        "health": {"status": health, "message": message},
        "operationState": {"phase": "Succeeded", "operation": {"sync": {}}, "startedAt": "2026-01-01T00:00:00Z"},
    }


def test_wait_names_the_stuck_application(lab):
    """No controller runs in the lab, so the test plays Argo CD: it writes the statuses the
    role polls (Application has no status subresource) and checks the role's report."""
    assert lab.ansible_playbook(PLATFORM, "--tags", "apps").returncode == 0
    children = [
        _child("zz-test-ok", "Synced", "Healthy"),
        _child("zz-test-stuck", "OutOfSync", "Degraded", "Deployment zz: ProgressDeadlineExceeded"),
    ]
    refs = [{"group": "argoproj.io", "kind": "Application", "namespace": "argocd", "name": c["metadata"]["name"]} for c in children]
    root_spec = lab.kubectl_json("get", "applications.argoproj.io", "llm-platform", "-n", "argocd")["spec"]
    root_status = {"status": dict(_status("Synced", "Healthy", root_spec["source"], root_spec["destination"]), resources=refs)}
    wait = ("--tags", "apps", "-e", "platform_apps_wait=true", "-e", "platform_apps_wait_timeout=4", "-e", "platform_apps_wait_interval=2")
    try:
        apply_docs(lab, children)
        lab.kubectl("patch", "applications.argoproj.io", "llm-platform", "-n", "argocd", "--type=merge", "-p", json.dumps(root_status))
        stuck = lab.ansible_playbook(PLATFORM, *wait)
        assert stuck.returncode != 0
        report = "zz-test-stuck: sync=OutOfSync health=Degraded operation=Succeeded - Deployment zz: ProgressDeadlineExceeded"
        assert report in stuck.stdout, stuck.stdout[-3000:]
        assert "zz-test-ok:" not in stuck.stdout
        lab.kubectl(
            "patch",
            "applications.argoproj.io",
            "zz-test-stuck",
            "-n",
            "argocd",
            "--type=merge",
            "-p",
            json.dumps({"status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}}),
        )
        done = lab.ansible_playbook(PLATFORM, *wait)
        assert done.returncode == 0, done.stdout[-3000:]
        assert lab.recap(done.stdout)["localhost"]["changed"] == 0
    finally:
        lab.kubectl("delete", "applications.argoproj.io", "zz-test-ok", "zz-test-stuck", "-n", "argocd", "--ignore-not-found", check=False)
        lab.kubectl(
            "patch",
            "applications.argoproj.io",
            "llm-platform",
            "-n",
            "argocd",
            "--type=json",
            "-p",
            '[{"op": "remove", "path": "/status"}]',
            check=False,
        )


@pytest.mark.parametrize("backend", ["gcpsm", "vault"])
def test_secrets_playbook_remote_backends_create_if_absent(backend):
    """Against fakes of Secret Manager / Vault KV v2 on 127.0.0.1 (no cluster needed for these
    auth modes): pre-existing values are never overwritten, missing ones are created once."""
    import labkit
    from fake_backends import TOKEN, FakeBackend

    with FakeBackend(backend) as fake:
        fake.store.values["litellm-salt-key"] = ["pre-existing-salt"]
        if backend == "gcpsm":
            extra = [
                "-e",
                "secret_backend=gcpsm",
                "-e",
                "secret_store_auth=sa-key",
                "-e",
                "secret_gcp_project_id=my-gcp-project",
                "-e",
                f"secrets_gcp_endpoint={fake.url}/v1",
                "-e",
                f"secrets_gcp_access_token={TOKEN}",
            ]
        else:
            extra = [
                "-e",
                "secret_backend=vault",
                "-e",
                "secret_store_auth=kubernetes",
                "-e",
                f"secret_vault_server={fake.url}",
                "-e",
                "secret_vault_path=secret",
                "-e",
                f"secrets_vault_token={TOKEN}",
            ]
        first = labkit.ansible_playbook(SECRETS, *extra)
        assert first.returncode == 0, first.stdout[-5000:]
        assert fake.store.values["litellm-salt-key"] == ["pre-existing-salt"]
        created = {k: v for k, v in fake.store.values.items() if k != "litellm-salt-key"}
        assert {"litellm-master-key", "vllm-api-key", "litellm-db-password", "grafana-admin-password"} <= set(created)
        contract = _contract_generate()
        for name, versions in created.items():
            assert len(versions) == 1, name
            if contract[name]:
                assert re.fullmatch(r"[0-9a-f]{%d}" % LENGTHS[contract[name]], versions[0]), name
            else:
                assert versions[0] == "", "%s is the operator's to supply: seeded empty, never invented" % name
        snapshot = {k: list(v) for k, v in fake.store.values.items()}
        second = labkit.ansible_playbook(SECRETS, *extra)
        assert second.returncode == 0, second.stdout[-5000:]
        assert labkit.recap(second.stdout)["localhost"]["changed"] == 0
        assert fake.store.values == snapshot
        for (value,) in (v for v in snapshot.values() if v != [""]):
            assert value not in first.stdout + first.stderr + second.stdout + second.stderr


def test_private_repo_credential_lands_only_in_the_cluster(lab, monkeypatch):
    token = "ghp_" + "x1y2z3" * 6
    # A private fork on GitHub (the lab inventory itself reads its own git daemon).
    fork = "https://github.com/example/llm-platform.git"
    monkeypatch.setenv("LLM_PLATFORM_REPO_TOKEN", token)
    run = lab.ansible_playbook(PLATFORM, "--tags", "argocd", "-e", "platform_repo_url=" + fork)
    assert run.returncode == 0, run.stdout[-4000:]
    assert token not in run.stdout + run.stderr
    repo = lab.kubectl_json("get", "secret", "repo-llm-platform", "-n", "argocd")
    assert base64.b64decode(repo["data"]["password"]).decode() == token
    assert base64.b64decode(repo["data"]["url"]).decode() == fork
    monkeypatch.delenv("LLM_PLATFORM_REPO_TOKEN")
    public = lab.ansible_playbook(PLATFORM, "--tags", "argocd", "-e", "platform_repo_url=" + fork)
    assert public.returncode == 0, public.stdout[-4000:]
    assert "password" not in lab.kubectl_json("get", "secret", "repo-llm-platform", "-n", "argocd")["data"]
