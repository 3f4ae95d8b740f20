"""Preflight rules of the GKE, Hetzner, BYO and lab substrates: each bad input fails naming its
variable (the realistic per-inventory cases are in cases.py; these pin single rules)."""

from __future__ import annotations

import copy

import pytest
from kit import role_spec

from ansible_collections.llm.platform.plugins.plugin_utils import preflight


@pytest.fixture
def gke(cfg):
    gke = copy.deepcopy(cfg)
    gke.update(
        substrate="gke",
        cluster_name="llm-platform",
        gpu_stack="gke-managed",
        gateway_class="gke-l7-rilb",
        substrate_gke_project_id="my-gcp-project",
        substrate_gke_location="us-central1-a",
        cpu_pools=[{"name": "default-pool", "machine_type": "e2-standard-4", "min_nodes": 1, "max_nodes": 3}],
        gpu_pools=[
            {
                "name": "gpu-l4",
                "machine_type": "g2-standard-4",
                "accelerator": "nvidia-l4",
                "gpus_per_node": 1,
                "min_nodes": 0,
                "max_nodes": 2,
            }
        ],
    )
    return gke


@pytest.fixture
def hetzner(cfg):
    hz = copy.deepcopy(cfg)
    hz.update(
        substrate="hetzner",
        cluster_name="llm-platform",
        gpu_stack="operator",
        gateway_class="agentgateway",
        substrate_hetzner_location="nbg1",
        substrate_hetzner_network_cidr="10.0.0.0/16",
        substrate_hetzner_operator_cidrs=["198.51.100.0/24"],
        substrate_hetzner_firewall_allow_world=False,
        cpu_pools=[{"name": "workers", "machine_type": "cpx42", "min_nodes": 2, "max_nodes": 2}],
        gpu_pools=[
            {
                "name": "gpu",
                "machine_type": "gex44",
                "accelerator": "nvidia-rtx-4000-sff-ada",
                "gpus_per_node": 1,
                "min_nodes": 2,
                "max_nodes": 2,
            }
        ],
    )
    return hz


def gke_paths(cfg):
    return [f.path for f in preflight.validate(cfg, role_spec("substrate_gke"))]


def hetzner_paths(cfg, context=None):
    return [f.path for f in preflight.validate(cfg, role_spec("substrate_hetzner"), context)]


def test_valid_gke_passes(gke):
    assert gke_paths(gke) == []


def test_valid_hetzner_passes(hetzner):
    assert hetzner_paths(hetzner) == []


def test_gke_missing_project_id(gke):
    del gke["substrate_gke_project_id"]
    assert gke_paths(gke) == ["substrate_gke_project_id"]
    gke["substrate_gke_project_id"] = ""
    assert gke_paths(gke) == ["substrate_gke_project_id"]
    # secret_gcp_project_id is the fallback, as in the role defaults.
    gke["secret_gcp_project_id"] = "my-gcp-project"
    assert gke_paths(gke) == []


def test_gke_malformed_project_id(gke):
    gke["substrate_gke_project_id"] = "My_Project"
    assert gke_paths(gke) == ["substrate_gke_project_id"]


def test_gpu_pool_min_greater_than_max_is_named(gke):
    gke["gpu_pools"][0].update(min_nodes=3, max_nodes=1)
    assert gke_paths(gke) == ["gpu_pools[0].max_nodes"]


def test_accelerator_not_offered_in_the_zone(gke):
    gke["substrate_gke_location"] = "us-east1-d"  # L4 and T4 only
    gke["gpu_pools"][0].update(machine_type="a2-highgpu-1g", accelerator="nvidia-tesla-a100")
    failures = preflight.validate(gke, role_spec("substrate_gke"))
    assert [f.path for f in failures] == ["gpu_pools[0].accelerator"]
    assert "us-east1-d" in failures[0].allowed and "nvidia-l4" in failures[0].allowed


def test_accelerator_not_offered_in_every_node_location(gke):
    gke["substrate_gke_location"] = "us-east1"
    gke["substrate_gke_node_locations"] = ["us-east1-b", "us-east1-d"]
    gke["gpu_pools"][0].update(machine_type="a2-highgpu-1g", accelerator="nvidia-tesla-a100")  # only us-east1-b
    assert gke_paths(gke) == ["gpu_pools[0].accelerator"]
    gke["gpu_pools"][0].update(machine_type="g2-standard-4", accelerator="nvidia-l4")
    assert gke_paths(gke) == []


def test_extra_accelerators_extend_the_table(gke):
    gke["gpu_pools"][0].update(machine_type="a4-highgpu-8g", accelerator="nvidia-b200", gpus_per_node=8)
    gke["models"][0]["gpus"] = 1
    assert gke_paths(gke) == ["gpu_pools[0].accelerator"]
    gke["substrate_gke_extra_accelerators"] = {"us-central1-a": ["nvidia-b200"]}
    assert gke_paths(gke) == []


def test_extra_accelerators_declare_a_newer_zone(gke):
    gke["substrate_gke_location"] = "us-south1-a"  # a real zone, not in gke_accelerators.yml
    assert gke_paths(gke) == ["substrate_gke_location"]
    gke["substrate_gke_extra_accelerators"] = {"us-south1-a": ["nvidia-l4"]}
    assert gke_paths(gke) == []


def test_gke_needs_a_system_pool_that_never_scales_to_zero(gke):
    gke["cpu_pools"][0]["min_nodes"] = 0
    assert gke_paths(gke) == ["cpu_pools[0].min_nodes"]
    gke["cpu_pools"] = []
    assert gke_paths(gke) == ["cpu_pools"]


@pytest.mark.parametrize("location", ["mars-north1-a", "Central US", "us-central1-e", "europe-west1-a", "us-central9"])
def test_unreal_location_is_named(gke, location):
    gke["substrate_gke_location"] = location
    assert gke_paths(gke) == ["substrate_gke_location"]


def test_node_locations_must_be_zones_of_the_region(gke):
    gke["substrate_gke_location"] = "europe-west4"
    gke["substrate_gke_node_locations"] = ["europe-west4-a", "europe-west4-d"]
    assert gke_paths(gke) == ["substrate_gke_node_locations[1]"]
    gke["substrate_gke_location"] = "europe-west4-a"  # zonal: its region's zones
    gke["substrate_gke_node_locations"] = ["europe-west4-b", "europe-west1-b"]
    assert gke_paths(gke) == ["substrate_gke_node_locations[1]"]


@pytest.mark.parametrize(
    ("pool", "named"),
    [
        ({"machine_type": "g2-standard-48", "gpus_per_node": 2}, "gpu_pools[0].gpus_per_node"),
        ({"machine_type": "a3-highgpu-8g", "accelerator": "nvidia-h100-80gb", "gpus_per_node": 4}, "gpu_pools[0].gpus_per_node"),
        ({"machine_type": "n1-standard-8", "accelerator": "nvidia-l4"}, "gpu_pools[0].accelerator"),
        ({"machine_type": "n1-standard-8", "accelerator": "nvidia-tesla-t4", "gpus_per_node": 3}, "gpu_pools[0].gpus_per_node"),
        ({"machine_type": "e2-standard-8"}, "gpu_pools[0].machine_type"),
        ({"machine_type": "gex44"}, "gpu_pools[0].machine_type"),
    ],
)
def test_gpu_machine_must_carry_the_pools_gpus(gke, pool, named):
    gke["gpu_pools"][0].update(pool)
    assert gke_paths(gke) == [named]


def test_n1_with_attached_t4(gke):
    gke["gpu_pools"][0].update(machine_type="n1-standard-8", accelerator="nvidia-tesla-t4", gpus_per_node=2)
    assert gke_paths(gke) == []


def test_node_service_account_name(gke):
    gke["cluster_name"] = "a" * 21
    assert gke_paths(gke) == ["cluster_name"]
    gke["substrate_gke_node_sa_name"] = "gke-nodes"
    assert gke_paths(gke) == []
    gke["substrate_gke_manage_iam"] = False
    gke["substrate_gke_node_sa_name"] = "x"
    assert gke_paths(gke) == []


def test_master_cidr_only_with_private_nodes(gke):
    gke["substrate_gke_master_ipv4_cidr_block"] = "172.16.0.32/28"
    assert gke_paths(gke) == ["substrate_gke_master_ipv4_cidr_block"]
    gke["substrate_gke_private_nodes"] = True
    assert gke_paths(gke) == []
    gke["substrate_gke_master_ipv4_cidr_block"] = ""
    assert gke_paths(gke) == ["substrate_gke_master_ipv4_cidr_block"]


def test_hetzner_firewall_open_to_the_world_needs_the_override(hetzner):
    hetzner["substrate_hetzner_operator_cidrs"] = ["198.51.100.0/24", "0.0.0.0/0"]
    failures = preflight.validate(hetzner, role_spec("substrate_hetzner"))
    assert [f.path for f in failures] == ["substrate_hetzner_operator_cidrs[1]"]
    assert "substrate_hetzner_firewall_allow_world" in failures[0].allowed
    hetzner["substrate_hetzner_firewall_allow_world"] = True
    assert hetzner_paths(hetzner) == []


def test_hetzner_ipv6_world_too(hetzner):
    hetzner["substrate_hetzner_operator_cidrs"] = ["::/0"]
    assert hetzner_paths(hetzner) == ["substrate_hetzner_operator_cidrs[0]"]


def test_hetzner_bad_and_missing_cidrs(hetzner):
    hetzner["substrate_hetzner_operator_cidrs"] = ["198.51.100.7/24"]
    assert hetzner_paths(hetzner) == ["substrate_hetzner_operator_cidrs[0]"]
    hetzner["substrate_hetzner_operator_cidrs"] = []
    assert hetzner_paths(hetzner) == ["substrate_hetzner_operator_cidrs"]
    del hetzner["substrate_hetzner_operator_cidrs"]  # unset: the role default [] lets nobody in
    assert hetzner_paths(hetzner) == []


def test_hetzner_network_and_location(hetzner):
    hetzner["substrate_hetzner_network_cidr"] = "8.8.0.0/16"
    hetzner["substrate_hetzner_location"] = "nyc1"
    assert sorted(hetzner_paths(hetzner)) == ["substrate_hetzner_location", "substrate_hetzner_network_cidr"]


@pytest.mark.parametrize(
    ("location", "zone"), [("fsn1", "eu-central"), ("hel1", "eu-central"), ("ash", "us-east"), ("hil", "us-west"), ("sin", "ap-southeast")]
)
def test_hetzner_location_and_its_network_zone(hetzner, location, zone):
    hetzner.update(substrate_hetzner_location=location, substrate_hetzner_network_zone=zone)
    assert hetzner_paths(hetzner) == []
    other = "us-east" if zone != "us-east" else "eu-central"
    hetzner["substrate_hetzner_network_zone"] = other
    assert hetzner_paths(hetzner) == ["substrate_hetzner_network_zone"]


def test_hetzner_default_network_zone_is_checked_against_the_location(hetzner):
    hetzner["substrate_hetzner_location"] = "sin"  # the role's default zone is eu-central
    assert hetzner_paths(hetzner) == ["substrate_hetzner_location"]


def test_hetzner_default_k3s_cidrs_against_a_moved_network(hetzner):
    hetzner["substrate_hetzner_network_cidr"] = "10.32.0.0/11"  # holds 10.42 and 10.43
    hetzner["substrate_hetzner_subnet_cidr"] = "10.32.1.0/24"
    assert hetzner_paths(hetzner) == ["substrate_hetzner_k3s_cluster_cidr", "substrate_hetzner_k3s_service_cidr"]


def test_rules_ignore_other_substrates(cfg):
    cfg["substrate_hetzner_operator_cidrs"] = ["0.0.0.0/0"]
    cfg["substrate_gke_location"] = "mars-north1-a"
    assert [f.path for f in preflight.validate(cfg)] == []


def test_gpu_workers_need_an_address_and_a_key(hetzner, tmp_path):
    key = tmp_path / "gex.key"
    key.write_text("unused")
    hosts = {"gex-1": {"ansible_host": "203.0.113.10", "ansible_ssh_private_key_file": str(key)}, "gex-2": {"ansible_host": "203.0.113.11"}}
    ctx = {"hosts": {"gpu_workers": hosts}, "ssh_identities": True}
    assert hetzner_paths(hetzner, ctx) == []
    ctx["ssh_identities"] = False  # no agent, no ~/.ssh/id_*: gex-2 has nothing to log in with
    assert hetzner_paths(hetzner, ctx) == ["gpu_workers.gex-2.ansible_ssh_private_key_file"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"substrate_byo_min_version": "1.30", "substrate_byo_max_version": "1.29"}, "substrate_byo_max_version"),
        ({"substrate_byo_min_version": "v1.30"}, "substrate_byo_min_version"),
        ({"kubeconfig_path": "/nonexistent/kubeconfig"}, "kubeconfig_path"),
    ],
)
def test_byo(cfg, tmp_path, change, named):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\n")
    cfg.update(substrate="byo", gateway_class="agentgateway", kubeconfig_path=str(kubeconfig))
    assert [f.path for f in preflight.validate(cfg, role_spec("substrate_byo"))] == []
    cfg.update(change)
    assert [f.path for f in preflight.validate(cfg, role_spec("substrate_byo"))] == [named]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"substrate_lab_name": "Lab_1"}, "substrate_lab_name"),
        ({"substrate_lab_apiserver_port": 80}, "substrate_lab_apiserver_port"),
        ({"substrate_lab_node_shapes": {"gpu-x": {"cpu": "4"}}}, "substrate_lab_node_shapes.gpu-x"),
        ({"substrate_lab_extra_gpu_pools": [{"name": "system", "gpus_per_node": 1}]}, "substrate_lab_extra_gpu_pools[0].name"),
        ({"gpu_stack": "gke-managed"}, "gpu_stack"),
    ],
)
def test_lab(cfg, change, named):
    assert [f.path for f in preflight.validate(cfg, role_spec("substrate_lab"))] == []
    cfg.update(change)
    assert [f.path for f in preflight.validate(cfg, role_spec("substrate_lab"))] == [named]
