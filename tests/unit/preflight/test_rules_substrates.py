"""Preflight rules of the GKE and Hetzner substrates: each bad input fails naming its variable."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.llm.platform.plugins.plugin_utils import preflight

ROLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles")


def role_spec(role):
    with open(os.path.join(ROLES, role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        return {role: yaml.safe_load(handle)["argument_specs"]["main"]["options"]}


@pytest.fixture
def gke(cfg):
    cfg.update(
        substrate="gke",
        cluster_name="llm-platform",
        gpu_stack="gke-managed",
        gateway_class="gke-l7-rilb",
        substrate_gke_project_id="my-gcp-project",
        substrate_gke_location="us-central1-a",
        cpu_pools=[{"name": "default-pool", "machine_type": "e2-standard-4", "min_nodes": 1, "max_nodes": 3}],
        gpu_pools=[{"name": "gpu-l4", "accelerator": "nvidia-l4", "gpus_per_node": 1, "min_nodes": 0, "max_nodes": 1}],
    )
    return cfg


@pytest.fixture
def hetzner(cfg):
    cfg.update(
        substrate="hetzner",
        cluster_name="llm-platform",
        gpu_stack="operator",
        substrate_hetzner_location="nbg1",
        substrate_hetzner_network_cidr="10.0.0.0/16",
        substrate_hetzner_operator_cidrs=["198.51.100.0/24"],
        substrate_hetzner_firewall_allow_world=False,
        gpu_pools=[{"name": "gpu", "accelerator": "nvidia-rtx-4000-sff-ada", "gpus_per_node": 1, "min_nodes": 1, "max_nodes": 1}],
    )
    return cfg


def gke_paths(cfg):
    return [f.path for f in preflight.validate(cfg, role_spec("substrate_gke"))]


def hetzner_paths(cfg):
    return [f.path for f in preflight.validate(cfg, role_spec("substrate_hetzner"))]


def test_valid_gke_and_hetzner_pass(gke, hetzner):
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


def test_unknown_accelerator_for_the_zone(gke):
    gke["gpu_pools"][0]["accelerator"] = "nvidia-tesla-k80"
    failures = preflight.validate(gke, role_spec("substrate_gke"))
    assert [f.path for f in failures] == ["gpu_pools[0].accelerator"]
    assert "us-central1-a" in failures[0].allowed and "nvidia-l4" in failures[0].allowed


def test_accelerator_not_offered_in_every_node_location(gke):
    gke["substrate_gke_location"] = "us-east1"
    gke["substrate_gke_node_locations"] = ["us-east1-b", "us-east1-d"]
    gke["gpu_pools"][0]["accelerator"] = "nvidia-tesla-a100"  # only us-east1-b
    assert gke_paths(gke) == ["gpu_pools[0].accelerator"]
    gke["gpu_pools"][0]["accelerator"] = "nvidia-l4"
    assert gke_paths(gke) == []


def test_extra_accelerators_extend_the_table(gke):
    gke["gpu_pools"][0]["accelerator"] = "nvidia-b200"
    gke["substrate_gke_extra_accelerators"] = {"us-central1-a": ["nvidia-b200"]}
    assert gke_paths(gke) == []


def test_gke_needs_a_system_pool_that_never_scales_to_zero(gke):
    gke["cpu_pools"][0]["min_nodes"] = 0
    assert gke_paths(gke) == ["cpu_pools[0].min_nodes"]
    gke["cpu_pools"] = []
    assert gke_paths(gke) == ["cpu_pools"]


def test_unknown_zone_is_named(gke):
    gke["substrate_gke_location"] = "mars-north1-a"
    assert gke_paths(gke) == ["substrate_gke_location"]


def test_bad_location_format(gke):
    gke["substrate_gke_location"] = "Central US"
    assert gke_paths(gke) == ["substrate_gke_location"]


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


def test_rules_ignore_other_substrates(cfg):
    cfg["substrate_hetzner_operator_cidrs"] = ["0.0.0.0/0"]
    assert [f.path for f in preflight.validate(cfg)] == []
