"""Argo CD really reconciles the app-of-apps in the living lab: its own pods run as processes,
it syncs every Application of the tier from the lab's git daemon, keeps them synced (self-heal)
and the platform playbooks are idempotent on top of it."""

from __future__ import annotations

import json
import subprocess

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.platform, pytest.mark.living]


def _git_head(living) -> str:
    repo = living.os.path.join(living.STATE_DIR, "git", "llm-platform.git")
    return subprocess.run(["git", "--git-dir", repo, "rev-parse", "lab"], capture_output=True, text=True, check=True).stdout.strip()


def test_argo_cd_runs_as_real_processes(living):
    for prefix in ("argocd-application-controller", "argocd-repo-server", "argocd-server", "argocd-redis"):
        pod = living.backed_pod("argocd", prefix)
        main = [c for c in pod["containers"].values() if c["pid"]]
        assert main and all(c["ready"] for c in main), pod
        for c in main:  # a live process of the lab's namespace, not a kwok status
            assert living.os.path.exists("/proc/%d" % c["pid"]), (prefix, c)


def test_every_automated_application_is_synced_and_healthy_from_the_lab_git(living):
    apps = living.applications()
    head = _git_head(living)
    automated = {n: a for n, a in apps.items() if a["spec"].get("syncPolicy", {}).get("automated") is not None}
    assert {"llm-platform", "argo-cd", "external-secrets", "secret-store", "litellm", "inference-routing"} <= set(automated)
    for name, app in automated.items():
        status = app["status"]
        assert status["sync"]["status"] == "Synced", (name, status["sync"])
        assert status["health"]["status"] == "Healthy", (name, status["health"])
        op = status.get("operationState", {})
        assert op.get("phase") == "Succeeded", (name, op.get("phase"), op.get("message"))
    root = apps["llm-platform"]["status"]
    assert root["sync"]["revision"] == head, "the root app is synced from the lab branch's current commit"


def test_the_tier_decides_the_applications(living):
    apps = set(living.applications())
    on = living.features()
    assert ("kueue" in apps) == on["gpu_quota"]
    assert ("keda" in apps) == on["autoscaling"]
    assert ("kube-prometheus-stack" in apps) == on["observability"]
    assert "kserve" not in apps


def test_self_heal_restores_a_deleted_managed_object(living):
    """Delete a ConfigMap the litellm Application owns; Argo CD's self-heal puts it back."""
    objs = living.applications()["litellm"]["status"]["resources"]
    (cm,) = [r for r in objs if r["kind"] == "ConfigMap" and r["name"] == "litellm-config"]
    before = living.labkit.kubectl_json("-n", cm["namespace"], "get", "configmap", cm["name"])
    living.labkit.kubectl("-n", cm["namespace"], "delete", "configmap", cm["name"])

    def restored():
        proc = living.labkit.kubectl("-n", cm["namespace"], "get", "configmap", cm["name"], "-o", "json", check=False)
        return proc.returncode == 0 and json.loads(proc.stdout)

    after = living.labkit.wait_for(restored, timeout=180, interval=2, what="Argo CD to recreate the ConfigMap")
    assert after["metadata"]["uid"] != before["metadata"]["uid"]
    assert after["data"] == before["data"]


def test_a_rerun_of_the_platform_playbook_changes_nothing(living):
    proc = living.labkit.ansible_playbook("playbooks/platform.yml", *living.converge_vars())
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert living.labkit.recap(proc.stdout)["localhost"]["changed"] == 0, proc.stdout[-6000:]


def test_check_mode_with_diff_changes_nothing(living):
    before = {n: a["metadata"]["resourceVersion"] for n, a in living.applications().items() if n == "llm-platform"}
    proc = living.labkit.ansible_playbook("playbooks/platform.yml", "--check", "--diff", *living.converge_vars())
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert living.labkit.recap(proc.stdout)["localhost"]["changed"] == 0, proc.stdout[-6000:]
    spec_after = living.applications()["llm-platform"]["spec"]
    assert spec_after["source"]["targetRevision"] == "lab" and before


def test_a_model_deployment_scaled_by_hand_is_not_reverted(living):
    """model-serving ignores Deployment replicas (ignoreDifferences + RespectIgnoreDifferences):
    a hand scale (or KEDA's) leaves the Application Synced and is not undone."""
    # replicas=1 brings the model up (the serving playbook syncs the manual Application first).
    proc = living.labkit.ansible_playbook("playbooks/serving.yml", "-e", "model=qwen-local", "-e", "replicas=1", "-e", "autoscaling=paused")
    assert proc.returncode == 0, proc.stdout[-6000:]
    kubectl = living.labkit.kubectl
    before = living.labkit.kubectl_json("-n", "serving", "get", "deployment", "qwen-local")["spec"]["replicas"]
    target = 2 if before != 2 else 1
    kubectl("-n", "serving", "scale", "deployment", "qwen-local", "--replicas=%d" % target)
    try:
        # Three reconciliations (the lab's timeout is 15 s) with a hard refresh in between.
        kubectl("-n", "argocd", "annotate", "application", "model-serving", "argocd.argoproj.io/refresh=hard", "--overwrite")
        living.time.sleep(50)
        assert living.labkit.kubectl_json("-n", "serving", "get", "deployment", "qwen-local")["spec"]["replicas"] == target
        app = living.applications()["model-serving"]["status"]
        assert app["sync"]["status"] == "Synced", app["sync"]
    finally:
        kubectl("-n", "serving", "scale", "deployment", "qwen-local", "--replicas=%d" % before)
