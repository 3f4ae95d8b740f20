"""GKE, IAM, Service Usage and Secret Manager modules against the local API test server:
exact requests for create, no-op rerun, in-place update and delete; check mode sends no
mutating request; retries on 429/5xx; 409 conflicts; quota errors named."""

# ruff: noqa: E501

from __future__ import annotations

import pytest
from substratekit import read, run_module

from ansible_collections.llm.platform.plugins.modules import (
    gcp_iam_binding,
    gcp_service,
    gcp_service_account,
    gke_cluster,
    gke_kubeconfig,
    gke_node_pool,
)

pytestmark = pytest.mark.substrates

P, L = "proj-1", "us-central1-a"
CL = "/v1/projects/%s/locations/%s/clusters" % (P, L)
GPU_POOL = {
    "project": P,
    "location": L,
    "cluster": "llm",
    "name": "gpu-l4",
    "machine_type": "g2-standard-4",
    "disk_size_gb": 100,
    "accelerator_type": "nvidia-l4",
    "accelerator_count": 1,
    "gpu_driver_version": "DEFAULT",
    "min_nodes": 0,
    "max_nodes": 1,
    "spot": False,
    "workload_metadata": "GKE_METADATA",
    "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
}
CLUSTER = {
    "project": P,
    "location": L,
    "name": "llm",
    "release_channel": "REGULAR",
    "initial_node_pool": {"name": "default-pool", "machine_type": "e2-standard-4", "min_nodes": 1, "max_nodes": 3},
}


def test_service_enable_batches_missing_and_reruns_clean(fake, gcp_args):
    fake.services[P] = {"compute.googleapis.com": "ENABLED"}
    args = dict(gcp_args, project=P, services=["compute.googleapis.com", "container.googleapis.com", "iam.googleapis.com"])
    res = run_module(gcp_service, args, check=True)
    assert res["changed"] and res["changed_services"] == ["container.googleapis.com", "iam.googleapis.com"]
    assert fake.mutations() == []
    res = run_module(gcp_service, args)
    assert res["changed"]
    assert fake.mutations() == [
        (
            "POST",
            "serviceusage",
            "/v1/projects/proj-1/services:batchEnable",
            {"serviceIds": ["container.googleapis.com", "iam.googleapis.com"]},
        )
    ]
    assert res["operations"][0]["polls"] == 2 and res["operations"][0]["status"] == "DONE"
    mark = fake.mark()
    res = run_module(gcp_service, args)
    assert not res["changed"] and fake.mutations(mark) == []


def test_service_account_create_409_update_delete(fake, gcp_args):
    args = dict(gcp_args, project=P, name="eso", display_name="External Secrets")
    res = run_module(gcp_service_account, args)
    assert res["changed"] and res["email"] == "eso@proj-1.iam.gserviceaccount.com"
    assert fake.mutations() == [
        ("POST", "iam", "/v1/projects/proj-1/serviceAccounts", {"accountId": "eso", "serviceAccount": {"displayName": "External Secrets"}})
    ]
    mark = fake.mark()
    assert not run_module(gcp_service_account, args)["changed"] and fake.mutations(mark) == []
    # In-place update: PATCH with an updateMask naming only the changed field.
    mark = fake.mark()
    res = run_module(gcp_service_account, dict(args, display_name="ESO"))
    assert res["changed"] and res["diff"] == {"before": {"displayName": "External Secrets"}, "after": {"displayName": "ESO"}}
    assert fake.mutations(mark) == [
        (
            "PATCH",
            "iam",
            "/v1/projects/proj-1/serviceAccounts/eso@proj-1.iam.gserviceaccount.com",
            {"serviceAccount": {"displayName": "ESO"}, "updateMask": "displayName"},
        )
    ]
    # A create that races another creator (409 ALREADY_EXISTS) reads the account back.
    fake.accounts.pop("eso@proj-1.iam.gserviceaccount.com")
    fake.inject("GET", "serviceAccounts/eso@", 404, {"error": {"code": 404, "status": "NOT_FOUND", "message": "gone"}})
    fake.inject("POST", "serviceAccounts$", 409, {"error": {"code": 409, "status": "ALREADY_EXISTS", "message": "exists"}})
    fake.accounts["eso@proj-1.iam.gserviceaccount.com"] = {"email": "eso@proj-1.iam.gserviceaccount.com", "displayName": "ESO"}
    res = run_module(gcp_service_account, dict(args, display_name="ESO"))
    assert not res.get("failed") and res["service_account"]["displayName"] == "ESO"
    mark = fake.mark()
    res = run_module(gcp_service_account, dict(args, state="absent"), check=True)
    assert res["changed"] and fake.mutations(mark) == []
    res = run_module(gcp_service_account, dict(args, state="absent"))
    assert fake.mutations(mark) == [("DELETE", "iam", "/v1/projects/proj-1/serviceAccounts/eso@proj-1.iam.gserviceaccount.com", None)]


def test_iam_bindings_project_sa_secret_and_etag_conflict(fake, gcp_args):
    run_module(gcp_service_account, dict(gcp_args, project=P, name="eso"))
    sa = "eso@proj-1.iam.gserviceaccount.com"
    member = "serviceAccount:" + sa
    proj = dict(gcp_args, project=P, bindings=[{"role": "roles/secretmanager.secretAccessor", "members": [member]}])
    mark = fake.mark()
    res = run_module(gcp_iam_binding, proj, check=True)
    assert res["changed"] and res["added"] == ["roles/secretmanager.secretAccessor " + member] and fake.mutations(mark) == []
    # A concurrent change between read and write: 409 ABORTED, re-read, write again.
    fake.inject("POST", r"proj-1:setIamPolicy", 409, {"error": {"code": 409, "status": "ABORTED", "message": "concurrent policy changes"}})
    res = run_module(gcp_iam_binding, proj)
    assert res["changed"]
    sets = [m for m in fake.mutations(mark) if m[2].endswith(":setIamPolicy")]
    assert len(sets) == 2
    policy = fake.policies["project:proj-1"]
    assert {"role": "roles/secretmanager.secretAccessor", "members": [member]} in policy["bindings"]
    assert {"role": "roles/owner", "members": ["user:owner@example.com"]} in policy["bindings"]  # untouched
    mark = fake.mark()
    assert not run_module(gcp_iam_binding, proj)["changed"] and fake.mutations(mark) == []
    # Workload Identity on the service account.
    ksa = "serviceAccount:proj-1.svc.id.goog[external-secrets/external-secrets]"
    wi = dict(
        gcp_args,
        project=P,
        resource_type="service_account",
        resource=sa,
        bindings=[{"role": "roles/iam.workloadIdentityUser", "members": [ksa]}],
    )
    res = run_module(gcp_iam_binding, wi)
    assert res["changed"]
    assert fake.mutations(mark) == [
        (
            "POST",
            "iam",
            "/v1/projects/proj-1/serviceAccounts/%s:setIamPolicy" % sa,
            {"policy": {"version": 1, "etag": "BwYAAAAAAA=", "bindings": [{"role": "roles/iam.workloadIdentityUser", "members": [ksa]}]}},
        )
    ]
    # Secret-level policy (GET getIamPolicy), then removal.
    fake.secrets[(P, "hf-token")] = {"name": "projects/%s/secrets/hf-token" % P}
    sec = dict(
        gcp_args,
        project=P,
        resource_type="secret",
        resource="hf-token",
        bindings=[{"role": "roles/secretmanager.secretAccessor", "members": [member]}],
    )
    assert run_module(gcp_iam_binding, sec)["changed"]
    assert ("GET", "secretmanager", "/v1/projects/proj-1/secrets/hf-token:getIamPolicy", None, 200) in fake.log
    res = run_module(gcp_iam_binding, dict(sec, state="absent"))
    assert res["removed"] == ["roles/secretmanager.secretAccessor " + member]
    assert fake.policies["secret:proj-1/hf-token"]["bindings"] == []


def test_cluster_create_rerun_update_recreate_delete(fake, gcp_args):
    args = dict(gcp_args, **CLUSTER)
    res = run_module(gke_cluster, args, check=True)
    assert res["changed"] and fake.mutations() == []
    res = run_module(gke_cluster, args)
    assert res["changed"], res
    ((method, service, path, body),) = fake.mutations()
    assert (method, service, path) == ("POST", "container", CL)
    assert body == {
        "cluster": {
            "name": "llm",
            "networkConfig": {"datapathProvider": "ADVANCED_DATAPATH"},
            "ipAllocationPolicy": {"useIpAliases": True},
            "releaseChannel": {"channel": "REGULAR"},
            "workloadIdentityConfig": {"workloadPool": "proj-1.svc.id.goog"},
            "nodePools": [
                {
                    "name": "default-pool",
                    "config": {"machineType": "e2-standard-4"},
                    "initialNodeCount": 1,
                    "autoscaling": {"enabled": True, "minNodeCount": 1, "maxNodeCount": 3},
                }
            ],
        }
    }
    op = res["operations"][0]
    assert op["status"] == "DONE" and op["polls"] == 2 and op["progress"][0].startswith("RUNNING progress=0.0")
    assert res["cluster"]["endpoint"] == "34.118.0.10" and res["cluster"]["workload_pool"] == "proj-1.svc.id.goog"
    mark = fake.mark()
    res = run_module(gke_cluster, args)
    assert not res["changed"] and fake.mutations(mark) == []
    # In place: release channel and labels, one call each; the second first meets a busy cluster.
    fake.inject(
        "POST",
        ":setResourceLabels",
        400,
        {"error": {"code": 400, "status": "FAILED_PRECONDITION", "message": "Cluster is running incompatible operation operation-1."}},
    )
    res = run_module(gke_cluster, dict(args, release_channel="STABLE", resource_labels={"team": "ml"}))
    assert res["changed"] and res["updates"] == ["release_channel", "resource_labels"]
    assert fake.mutations(mark) == [
        ("PUT", "container", CL + "/llm", {"update": {"desiredReleaseChannel": {"channel": "STABLE"}}}),
        ("POST", "container", CL + "/llm:setResourceLabels", {"resourceLabels": {"team": "ml"}, "labelFingerprint": "a9dc16a7"}),
        ("POST", "container", CL + "/llm:setResourceLabels", {"resourceLabels": {"team": "ml"}, "labelFingerprint": "a9dc16a7"}),
    ]
    # Creation-time setting: reported, nothing sent.
    mark = fake.mark()
    res = run_module(gke_cluster, dict(args, datapath_provider="LEGACY_DATAPATH", release_channel="STABLE"))
    assert res["failed"] and "needs recreation" in res["msg"] and "datapath_provider" in res["msg"]
    assert res["needs_recreation"] == [{"field": "datapath_provider", "current": "ADVANCED_DATAPATH", "desired": "LEGACY_DATAPATH"}]
    assert fake.mutations(mark) == []
    res = run_module(gke_cluster, dict(args, state="absent"), check=True)
    assert res["changed"] and fake.mutations(mark) == []
    res = run_module(gke_cluster, dict(args, state="absent"))
    assert fake.mutations(mark) == [("DELETE", "container", CL + "/llm", None)]
    assert fake.clusters == {}
    assert not run_module(gke_cluster, dict(args, state="absent"))["changed"]


def test_gpu_pool_create_update_immutable_delete(fake, gcp_args):
    run_module(gke_cluster, dict(gcp_args, **CLUSTER))
    args = dict(gcp_args, **GPU_POOL)
    mark = fake.mark()
    res = run_module(gke_node_pool, args)
    assert res["changed"]
    assert fake.mutations(mark) == [
        (
            "POST",
            "container",
            CL + "/llm/nodePools",
            {
                "nodePool": {
                    "name": "gpu-l4",
                    "config": {
                        "machineType": "g2-standard-4",
                        "diskSizeGb": 100,
                        "spot": False,
                        "accelerators": [
                            {
                                "acceleratorType": "nvidia-l4",
                                "acceleratorCount": "1",
                                "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"},
                            }
                        ],
                        "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}],
                        "workloadMetadataConfig": {"mode": "GKE_METADATA"},
                    },
                    "initialNodeCount": 0,
                    "autoscaling": {"enabled": True, "minNodeCount": 0, "maxNodeCount": 1},
                }
            },
        )
    ]
    mark = fake.mark()
    assert not run_module(gke_node_pool, args)["changed"] and fake.mutations(mark) == []
    res = run_module(gke_node_pool, dict(args, max_nodes=2, labels={"pool": "gpu"}), check=True)
    assert res["changed"] and res["updates"] == ["autoscaling", "labels"] and fake.mutations(mark) == []
    res = run_module(gke_node_pool, dict(args, max_nodes=2, labels={"pool": "gpu"}))
    assert fake.mutations(mark) == [
        (
            "POST",
            "container",
            CL + "/llm/nodePools/gpu-l4:setAutoscaling",
            {"autoscaling": {"enabled": True, "minNodeCount": 0, "maxNodeCount": 2}},
        ),
        ("PUT", "container", CL + "/llm/nodePools/gpu-l4", {"labels": {"labels": {"pool": "gpu"}}}),
    ]
    mark = fake.mark()
    res = run_module(gke_node_pool, dict(args, max_nodes=2, labels={"pool": "gpu"}, accelerator_type="nvidia-tesla-t4"))
    assert res["failed"] and res["needs_recreation"][0]["field"] == "accelerator_type" and fake.mutations(mark) == []
    res = run_module(gke_node_pool, dict(args, state="absent"))
    assert fake.mutations(mark) == [("DELETE", "container", CL + "/llm/nodePools/gpu-l4", None)]


def test_retries_on_429_and_5xx(fake, gcp_args):
    fake.inject(
        "GET",
        "services/container",
        429,
        {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "Rate limited"}},
        headers={"Retry-After": "0"},
    )
    fake.inject("POST", "batchEnable", 503, {"error": {"code": 503, "status": "UNAVAILABLE", "message": "try later"}}, times=2)
    fake.inject("GET", "/operations/", 500, {"error": {"code": 500, "status": "INTERNAL", "message": "oops"}})
    res = run_module(gcp_service, dict(gcp_args, project=P, services=["container.googleapis.com"]))
    assert res["changed"] and not res.get("failed"), res
    assert fake.services[P]["container.googleapis.com"] == "ENABLED"
    statuses = [s for (_m, _s, _p, _b, s) in fake.log]
    assert statuses.count(429) == 1 and statuses.count(503) == 2 and statuses.count(500) == 1


def test_retries_exhausted_fail_clearly(fake, gcp_args):
    fake.inject("GET", "clusters/llm", 503, times=10)
    res = run_module(gke_cluster, dict(gcp_args, retries=2, **CLUSTER))
    assert res["failed"] and "HTTP 503" in res["msg"] and res["failure"]["status"] == 503
    assert len(fake.log) == 3


def test_quota_errors_name_the_quota(fake, gcp_args):
    run_module(gke_cluster, dict(gcp_args, **CLUSTER))
    # Synchronous: 403 on create with a QuotaFailure detail.
    fake.inject(
        "POST",
        "nodePools$",
        403,
        {
            "error": {
                "code": 403,
                "status": "RESOURCE_EXHAUSTED",
                "message": "Insufficient regional quota to satisfy request: resource \"NVIDIA_L4_GPUS\": request requires '1.0' and is short '1.0'.",
                "details": [],
            }
        },
    )
    res = run_module(gke_node_pool, dict(gcp_args, **GPU_POOL))
    assert res["failed"] and res["msg"].startswith("Quota exceeded: NVIDIA_L4_GPUS") and res["failure"]["quota"] == "NVIDIA_L4_GPUS"
    # A quota that is not retried even as 429 when the details say QUOTA_EXCEEDED? 429 rate limits are retried.
    # Asynchronous: the operation finishes with an error naming the quota.
    fake.fail_ops.append(
        "Insufficient quota to satisfy the request: Not all instances running in IGM after 35s. Current errors: "
        "[GCE_QUOTA_EXCEEDED]: Instance 'gke-llm-gpu-l4-1' creation failed: Quota 'GPUS_ALL_REGIONS' exceeded. Limit: 0.0 globally."
    )
    res = run_module(gke_node_pool, dict(gcp_args, **GPU_POOL))
    assert res["failed"] and "Quota exceeded: GPUS_ALL_REGIONS" in res["msg"] and res["failure"]["quota"] == "GPUS_ALL_REGIONS"


def test_operation_timeout_reports_progress(fake, gcp_args):
    fake.op_polls = 10_000
    res = run_module(gke_cluster, dict(gcp_args, operation_timeout=0, **CLUSTER))
    assert res["failed"] and "Timed out after 0s waiting for operation operation-" in res["msg"] and "last progress: RUNNING" in res["msg"]


def test_kubeconfig_plugin_and_token(fake, gcp_args, tmp_path):
    run_module(gke_cluster, dict(gcp_args, **CLUSTER))
    path = str(tmp_path / "kube" / "config")
    args = dict(gcp_args, project=P, location=L, cluster="llm", path=path)
    res = run_module(gke_kubeconfig, args, check=True)
    assert res["changed"] and not (tmp_path / "kube").exists()
    res = run_module(gke_kubeconfig, args)
    assert res["changed"] and res["server"] == "https://34.118.0.10"
    text = read(path)
    assert "gke-gcloud-auth-plugin" in text and "certificate-authority-data" in text
    assert oct((tmp_path / "kube" / "config").stat().st_mode & 0o777) == "0o600"
    assert not run_module(gke_kubeconfig, args)["changed"]
    tok = dict(args, auth="token", auth_kind="accesstoken", access_token="ya29.short-lived")
    res = run_module(gke_kubeconfig, tok)
    assert res["changed"] and "ya29.short-lived" in read(path) and "ya29" not in str(res)
    res = run_module(gke_kubeconfig, dict(tok, access_token="ya29.refreshed"))
    assert not res["changed"] and "ya29.refreshed" in read(path)
