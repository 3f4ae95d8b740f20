"""The GKE substrate role end to end through playbooks/substrate.yml and playbooks/teardown.yml
against the local API test server: exact requests for create, a no-op rerun (changed=0),
check mode (no mutating request), an in-place update, and the ordered teardown with its audit."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.substrates

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
P = "my-gcp-project"
CL = "/v1/projects/%s/locations/us-central1-a/clusters" % P
SUBNETS = "/compute/v1/projects/%s/regions/us-central1/subnetworks" % P
RECAP = re.compile(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


def play(fake, tmp_path, playbook, *args, extra=None):
    ev = {
        "substrate_gke_api_endpoint": fake.endpoint,
        "substrate_gke_auth_kind": "anonymous",
        "substrate_gke_poll_interval": 0.01,
        "kubeconfig_path": str(tmp_path / "kubeconfig"),
    }
    ev.update(extra or {})
    path = tmp_path / "extra.json"
    path.write_text(json.dumps(ev))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), LLM_PLATFORM_GCP_RETRY_BACKOFF="0.01")
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    proc = subprocess.run(
        [exe, "-i", "inventories/gke", "playbooks/" + playbook, "-e", "@" + str(path), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    found = RECAP.search(proc.stdout)
    assert found, proc.stdout[-3000:] + proc.stderr[-2000:]
    _ok, changed, _unreachable, failed = map(int, found.groups())
    return proc, changed, failed


def test_gke_role_create_rerun_check_update_teardown(fake, tmp_path):
    proc, changed, failed = play(fake, tmp_path, "substrate.yml")
    assert failed == 0, proc.stdout[-4000:]
    calls = [(m, s, p) for (m, s, p, _b) in fake.mutations()]
    node_sa = "gke-llm-platform-nodes@%s.iam.gserviceaccount.com" % P
    eso_sa = "external-secrets@%s.iam.gserviceaccount.com" % P
    assert calls == [
        ("POST", "serviceusage", "/v1/projects/%s/services:batchEnable" % P),
        ("POST", "iam", "/v1/projects/%s/serviceAccounts" % P),
        ("POST", "cloudresourcemanager", "/v1/projects/%s:setIamPolicy" % P),
        ("POST", "container", CL),
        ("POST", "compute", SUBNETS),
        ("POST", "container", CL + "/llm-platform/nodePools"),
        ("POST", "iam", "/v1/projects/%s/serviceAccounts" % P),
        ("POST", "cloudresourcemanager", "/v1/projects/%s:setIamPolicy" % P),
        ("POST", "iam", "/v1/projects/%s/serviceAccounts/%s:setIamPolicy" % (P, eso_sa)),
    ]
    bodies = fake.mutations()
    assert bodies[0][3] == {
        "serviceIds": [
            "container.googleapis.com",
            "compute.googleapis.com",
            "iam.googleapis.com",
            "iamcredentials.googleapis.com",
            "secretmanager.googleapis.com",
        ]
    }
    cluster = bodies[3][3]["cluster"]
    # gke-l7-rilb (the inventory's gateway class) needs the Gateway API and the region's proxy-only subnet.
    assert cluster["networkConfig"] == {"datapathProvider": "ADVANCED_DATAPATH", "gatewayApiConfig": {"channel": "CHANNEL_STANDARD"}}
    assert bodies[4][3] == {
        "name": "llm-platform-proxy-only",
        "network": "projects/%s/global/networks/default" % P,
        "ipCidrRange": "10.129.0.0/23",
        "purpose": "REGIONAL_MANAGED_PROXY",
        "role": "ACTIVE",
        "description": "managed by llm.platform",
    }
    assert fake.subnetworks[(P, "us-central1", "llm-platform-proxy-only")]["role"] == "ACTIVE"
    assert cluster["workloadIdentityConfig"] == {"workloadPool": "%s.svc.id.goog" % P}
    assert cluster["releaseChannel"] == {"channel": "REGULAR"}
    assert cluster["ipAllocationPolicy"] == {"useIpAliases": True}
    (system,) = cluster["nodePools"]
    assert system["name"] == "default-pool" and system["autoscaling"] == {"enabled": True, "minNodeCount": 1, "maxNodeCount": 3}
    assert system["config"]["serviceAccount"] == node_sa and system["config"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    gpu = bodies[5][3]["nodePool"]
    assert gpu["autoscaling"] == {"enabled": True, "minNodeCount": 0, "maxNodeCount": 1} and gpu["initialNodeCount"] == 0
    assert gpu["config"]["accelerators"] == [
        {"acceleratorType": "nvidia-l4", "acceleratorCount": "1", "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"}}
    ]
    assert gpu["config"]["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
    assert gpu["config"]["diskSizeGb"] == 100 and gpu["config"]["imageType"] == "COS_CONTAINERD"
    roles = {b["role"]: b["members"] for b in fake.policies["project:%s" % P]["bindings"]}
    assert roles["roles/logging.logWriter"] == ["serviceAccount:" + node_sa]
    assert roles["roles/secretmanager.secretAccessor"] == ["serviceAccount:" + eso_sa]
    assert fake.policies["sa:" + eso_sa]["bindings"] == [
        {"role": "roles/iam.workloadIdentityUser", "members": ["serviceAccount:%s.svc.id.goog[external-secrets/external-secrets]" % P]}
    ]
    kubeconfig = (tmp_path / "kubeconfig").read_text()
    assert "gke-gcloud-auth-plugin" in kubeconfig and "https://34.118.0.10" in kubeconfig
    facts = (tmp_path / "platform-facts.yml").read_text()
    assert "gpu_stack: gke-managed" in facts and "iam.gke.io/gcp-service-account: %s" % eso_sa in facts

    # No-op rerun: changed=0 and no mutating request.
    mark = fake.mark()
    proc, changed, failed = play(fake, tmp_path, "substrate.yml")
    assert (changed, failed) == (0, 0), proc.stdout[-3000:]
    assert fake.mutations(mark) == []

    # Check mode with a change: reported, nothing sent.
    bigger = [
        {"name": "gpu-l4", "machine_type": "g2-standard-4", "accelerator": "nvidia-l4", "gpus_per_node": 1, "min_nodes": 0, "max_nodes": 2}
    ]
    proc, changed, failed = play(
        fake, tmp_path, "substrate.yml", "--check", "--diff", extra={"gpu_pools": bigger, "substrate_gke_release_channel": "STABLE"}
    )
    assert failed == 0 and changed >= 2, proc.stdout[-3000:]
    assert fake.mutations(mark) == []

    # In-place update: one call per field, exactly these.
    proc, changed, failed = play(fake, tmp_path, "substrate.yml", extra={"gpu_pools": bigger, "substrate_gke_release_channel": "STABLE"})
    assert failed == 0 and changed == 2, proc.stdout[-3000:]
    assert fake.mutations(mark) == [
        ("PUT", "container", CL + "/llm-platform", {"update": {"desiredReleaseChannel": {"channel": "STABLE"}}}),
        (
            "POST",
            "container",
            CL + "/llm-platform/nodePools/gpu-l4:setAutoscaling",
            {"autoscaling": {"enabled": True, "minNodeCount": 0, "maxNodeCount": 2}},
        ),
    ]

    # The Gateway API channel changes in place, in its own update call.
    mark = fake.mark()
    extra = {"gpu_pools": bigger, "substrate_gke_release_channel": "STABLE", "substrate_gke_gateway_api_channel": "CHANNEL_EXPERIMENTAL"}
    proc, changed, failed = play(fake, tmp_path, "substrate.yml", extra=extra)
    assert failed == 0 and changed == 1, proc.stdout[-3000:]
    assert fake.mutations(mark) == [
        ("PUT", "container", CL + "/llm-platform", {"update": {"desiredGatewayApiConfig": {"channel": "CHANNEL_EXPERIMENTAL"}}})
    ]
    # Switching it off with a GKE gateway class is refused before any request, naming both settings.
    mark = fake.mark()
    proc, changed, failed = play(fake, tmp_path, "substrate.yml", extra=dict(extra, substrate_gke_gateway_api_channel="CHANNEL_DISABLED"))
    assert failed == 1 and "gateway_class gke-l7-rilb needs the Gateway API" in proc.stdout, proc.stdout[-3000:]
    assert "substrate_gke_gateway_api_channel=CHANNEL_DISABLED" in proc.stdout and fake.mutations(mark) == []
    assert [p for (_m, _s, p, _b, _st) in fake.log[mark:] if not p.startswith("/v1/projects/%s/services/" % P)] == []

    # A creation-time change fails before anything is sent, naming what needs recreation.
    mark = fake.mark()
    # (A T4 needs an N1 machine: T4 on g2-standard-4 is stopped earlier, by preflight.)
    other = [dict(bigger[0], machine_type="n1-standard-4", accelerator="nvidia-tesla-t4")]
    proc, changed, failed = play(fake, tmp_path, "substrate.yml", extra=dict(extra, gpu_pools=other))
    assert failed == 1 and "needs recreation" in proc.stdout and "accelerator_type: nvidia-l4 -> nvidia-tesla-t4" in proc.stdout
    assert fake.mutations(mark) == []

    # Teardown refuses without confirmation.
    proc, changed, failed = play(fake, tmp_path, "teardown.yml")
    assert failed == 1 and "teardown_confirm" in proc.stdout and fake.mutations(mark) == []
    # Ordered teardown: GPU pools first, then the cluster; the audit lists what is left.
    fake.compute["forwardingRules"].append(
        {"name": "a1b2c3", "description": '{"kubernetes.io/service-name":"litellm/litellm"}', "scope": "regions/us-central1"}
    )
    proc, changed, failed = play(
        fake, tmp_path, "teardown.yml", extra={"teardown_confirm": "llm-platform", "substrate_gke_teardown_cluster_objects": False}
    )
    assert failed == 0, proc.stdout[-4000:]
    assert fake.mutations(mark) == [
        ("DELETE", "container", CL + "/llm-platform/nodePools/gpu-l4", None),
        ("DELETE", "container", CL + "/llm-platform", None),
        ("DELETE", "compute", SUBNETS + "/llm-platform-proxy-only", None),
    ]
    assert fake.subnetworks == {}
    assert fake.clusters == {}
    assert "a1b2c3" in proc.stdout and "clean: false" in proc.stdout
    # A second teardown finds nothing to delete.
    mark = fake.mark()
    proc, changed, failed = play(
        fake, tmp_path, "teardown.yml", extra={"teardown_confirm": "llm-platform", "substrate_gke_teardown_cluster_objects": False}
    )
    assert (changed, failed) == (0, 0) and fake.mutations(mark) == []


def test_gke_role_reuses_the_regions_proxy_only_subnet(fake, tmp_path):
    """One ACTIVE proxy-only subnet serves a region and network: an existing one (another name)
    is reused, nothing is created, and teardown leaves it alone."""
    theirs = {
        "name": "shared-proxy-only",
        "network": "https://www.googleapis.com/compute/v1/projects/%s/global/networks/default" % P,
        "ipCidrRange": "10.200.0.0/23",
        "purpose": "REGIONAL_MANAGED_PROXY",
        "role": "ACTIVE",
    }
    fake.subnetworks[(P, "us-central1", "shared-proxy-only")] = dict(theirs)
    proc, _changed, failed = play(fake, tmp_path, "substrate.yml")
    assert failed == 0, proc.stdout[-4000:]
    assert [p for (_m, s, p, _b) in fake.mutations() if s == "compute"] == []
    assert sorted(fake.subnetworks) == [(P, "us-central1", "shared-proxy-only")]
    mark = fake.mark()
    proc, _changed, failed = play(
        fake, tmp_path, "teardown.yml", extra={"teardown_confirm": "llm-platform", "substrate_gke_teardown_cluster_objects": False}
    )
    assert failed == 0, proc.stdout[-4000:]
    assert [p for (_m, s, p, _b) in fake.mutations(mark) if s == "compute"] == []
    assert fake.subnetworks[(P, "us-central1", "shared-proxy-only")] == theirs
