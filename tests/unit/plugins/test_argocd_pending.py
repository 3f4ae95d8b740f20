"""Unit tests of the platform wait's judgement (plugins/filter/argocd.py) on Application objects
shaped as Argo CD v3 writes them."""

from __future__ import annotations

import copy

from ansible_collections.llm.platform.plugins.filter.argocd import NO_STATUS, STALE, argocd_pending

SOURCE = {
    "repoURL": "git://127.0.0.1:9418/llm-platform.git",
    "path": "gitops/app-of-apps",
    "targetRevision": "lab",
    "helm": {"valuesObject": {"profile": "llm-gateway"}},
}


def app(name, children=(), sync="Synced", health="Healthy", phase="Succeeded", resources=None, source=None, compared=None, manual=False):
    source = copy.deepcopy(source or SOURCE)
    res = [{"kind": "Application", "name": c, "status": "Synced"} for c in children] + list(resources or [])
    meta = {"name": name, "annotations": {"llm-platform/sync": "manual"} if manual else {}}
    return {
        "metadata": meta,
        "spec": {"source": source},
        "status": {
            "sync": {"status": sync, "comparedTo": {"source": copy.deepcopy(compared if compared is not None else source)}},
            "health": {"status": health},
            "operationState": {"phase": phase, "message": "successfully synced"},
            "resources": res,
        },
    }


def names(result):
    return [p["name"] for p in result["pending"]]


def test_all_synced_and_healthy_is_done():
    apps = [app("root", ["a", "b"]), app("a"), app("b")]
    assert argocd_pending(apps, "root") == {"done": True, "pending": []}


def test_a_root_without_children_yet_is_not_done():
    assert argocd_pending([app("root")], "root")["done"] is False


def test_a_missing_child_is_pending():
    result = argocd_pending([app("root", ["a"])], "root")
    assert result["pending"] == [
        {"name": "a", "sync": "Missing", "health": "Missing", "phase": "", "message": "Application not created yet"}
    ]


def test_a_child_without_status_names_the_controller():
    child = app("a")
    child["status"] = {}
    (entry,) = argocd_pending([app("root", ["a"]), child], "root")["pending"]
    assert entry["message"] == NO_STATUS


def test_out_of_sync_degraded_or_failed_operation_is_pending_with_the_reasons():
    degraded = app("b", health="Degraded")
    degraded["status"]["health"]["message"] = "Deployment litellm exceeded its progress deadline"
    apps = [app("root", ["a", "b", "c"]), app("a", sync="OutOfSync"), degraded, app("c", phase="Failed")]
    result = argocd_pending(apps, "root")
    assert names(result) == ["a", "b", "c"] and not result["done"]
    assert "progress deadline" in result["pending"][1]["message"]


def test_a_missing_resource_that_reads_healthy_is_still_pending():
    """Argo CD 3.4+: a resource missing from the cluster leaves the Application Healthy."""
    child = app(
        "a",
        resources=[
            {"kind": "Deployment", "namespace": "litellm", "name": "litellm", "status": "OutOfSync", "health": {"status": "Missing"}}
        ],
    )
    (entry,) = argocd_pending([app("root", ["a"]), child], "root")["pending"]
    assert entry["message"].endswith("; Deployment/litellm/litellm OutOfSync/Missing")


def test_a_status_compared_against_an_earlier_spec_is_not_done():
    """The root's profile just changed: its status still shows the previous profile's sync."""
    old = copy.deepcopy(SOURCE)
    new = copy.deepcopy(SOURCE)
    new["helm"]["valuesObject"]["profile"] = "serving"
    apps = [app("root", ["a"], source=new, compared=old), app("a")]
    (entry,) = argocd_pending(apps, "root")["pending"]
    assert entry == {"name": "root", "sync": "Synced", "health": "Healthy", "phase": "Succeeded", "message": STALE}


def test_fields_go_drops_when_empty_do_not_make_a_status_stale():
    spec = dict(copy.deepcopy(SOURCE), helm={"valuesObject": {"profile": "llm-gateway"}, "skipCrds": False}, kustomize={})
    assert argocd_pending([app("root", ["a"], source=spec, compared=SOURCE), app("a")], "root")["done"]


def test_null_values_argo_cd_drops_from_comparedto_do_not_make_a_status_stale():
    """Seen on Argo CD v3.6.2: `chart: null` in the spec's valuesObject is absent from comparedTo."""
    spec = copy.deepcopy(SOURCE)
    spec["helm"]["valuesObject"]["sources"] = {"kueue": {"repoURL": "git://127.0.0.1:9418/mirrors.git", "chart": None}}
    compared = copy.deepcopy(spec)
    del compared["helm"]["valuesObject"]["sources"]["kueue"]["chart"]
    assert argocd_pending([app("root", ["a"], source=spec, compared=compared), app("a")], "root")["done"]


def test_a_new_revision_not_compared_yet_is_stale():
    moved = dict(copy.deepcopy(SOURCE), targetRevision="main")
    assert names(argocd_pending([app("root", ["a"], source=moved, compared=SOURCE), app("a")], "root")) == ["root"]


def test_multi_source_children_compare_every_source():
    child = app("a")
    child["spec"]["sources"] = [{"repoURL": "https://charts.example/x", "chart": "x", "targetRevision": "2.0.0"}]
    child["status"]["sync"]["comparedTo"]["sources"] = [{"repoURL": "https://charts.example/x", "chart": "x", "targetRevision": "1.0.0"}]
    assert names(argocd_pending([app("root", ["a"]), child], "root")) == ["a"]


def test_a_manual_child_only_needs_to_exist_and_be_compared():
    gate = app("model-serving", sync="OutOfSync", health="Missing", phase="", manual=True)
    assert argocd_pending([app("root", ["model-serving"]), gate], "root")["done"]
    stale = app("model-serving", manual=True, source=dict(SOURCE, targetRevision="main"), compared=SOURCE)
    assert names(argocd_pending([app("root", ["model-serving"]), stale], "root")) == ["model-serving"]


def test_applications_outside_the_roots_list_are_ignored():
    apps = [app("root", ["a"]), app("a"), app("pruned-but-finalizing", sync="OutOfSync")]
    assert argocd_pending(apps, "root")["done"]
