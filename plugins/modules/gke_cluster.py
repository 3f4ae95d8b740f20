#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage a GKE Standard cluster through the GKE v1 REST API."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gke_cluster
short_description: Create, update in place or delete a GKE Standard cluster (VPC-native, Dataplane V2, Workload Identity)
version_added: 0.1.0
description:
  - Reads the cluster with C(GET v1/projects/{project}/locations/{location}/clusters/{name}); the location
    is a zone (zonal cluster) or a region (regional cluster).
  - Creates it with C(POST .../clusters) together with its first node pool (O(initial_node_pool)), so no
    default pool has to be removed, then polls the operation with progress and a timeout.
  - Updates in place, one call per field as GKE requires - release channel, Workload Identity pool and the
    Gateway API channel (C(PUT) with C(desiredReleaseChannel) / C(desiredWorkloadIdentityConfig) /
    C(desiredGatewayApiConfig)), control-plane authorized
    networks (C(desiredMasterAuthorizedNetworksConfig)) and resource labels (C(:setResourceLabels) with the
    label fingerprint).
  - Dataplane V2 (datapath provider), VPC-native IP aliasing, private nodes, network and subnetwork are
    creation-time settings - a difference is reported in RV(needs_recreation) and, with
    O(on_immutable_change=fail) (the default), fails before anything is changed.
  - Node pools after creation are managed with M(llm.platform.gke_node_pool); this module never touches them.
author:
  - llm.platform maintainers (@llm-platform)
extends_documentation_fragment:
  - llm.platform.gcp
  - ansible.builtin.action_common_attributes
options:
  project:
    description: Project id.
    type: str
    required: true
  location:
    description: A zone such as V(us-central1-a) (zonal cluster) or a region such as V(us-central1) (regional cluster).
    type: str
    required: true
  name:
    description: Cluster name.
    type: str
    required: true
  state:
    description:
      - Whether the cluster exists.
      - Deleting it deletes its node pools and their disks, not PersistentVolumes' disks or load balancers.
    type: str
    choices: [present, absent]
    default: present
  release_channel:
    description: Release channel; updated in place.
    type: str
    choices: [RAPID, REGULAR, STABLE, EXTENDED, UNSPECIFIED]
  workload_identity:
    description: Enable Workload Identity with the pool C({project}.svc.id.goog); updated in place.
    type: bool
    default: true
  gateway_api:
    description:
      - Gateway API channel of the cluster (C(networkConfig.gatewayApiConfig.channel)); updated in place.
      - V(CHANNEL_STANDARD) installs the Gateway API CRDs and GKE's gateway classes (C(gke-l7-rilb), ...), which the
        platform's inference Gateway on GKE needs. Unset leaves the setting alone.
    type: str
    choices: [CHANNEL_STANDARD, CHANNEL_EXPERIMENTAL, CHANNEL_DISABLED]
  datapath_provider:
    description: V(ADVANCED_DATAPATH) is Dataplane V2 (creation only).
    type: str
    choices: [ADVANCED_DATAPATH, LEGACY_DATAPATH]
    default: ADVANCED_DATAPATH
  vpc_native:
    description: VPC-native (alias IP) networking (creation only).
    type: bool
    default: true
  network:
    description: VPC network name (creation only); the project default network when unset.
    type: str
  subnetwork:
    description: Subnetwork name (creation only).
    type: str
  private_nodes:
    description: Nodes without external IPs (creation only); needs Cloud NAT for egress.
    type: bool
    default: false
  master_ipv4_cidr_block:
    description: /28 range of the control plane with O(private_nodes=true) (creation only).
    type: str
  master_authorized_networks:
    description:
      - CIDRs allowed to reach the control plane; updated in place.
      - Unset leaves the setting alone; an empty list disables the restriction.
    type: list
    elements: dict
    suboptions:
      cidr_block:
        description: CIDR block.
        type: str
        required: true
      display_name:
        description: Label shown in the console.
        type: str
        default: ""
  resource_labels:
    description: GCP resource labels of the cluster; updated in place (replaces all labels).
    type: dict
  initial_node_pool:
    description:
      - The first node pool, created with the cluster (creation only; manage it later with M(llm.platform.gke_node_pool)).
      - Keys as the options of M(llm.platform.gke_node_pool) plus C(name), e.g. C(machine_type), C(min_nodes),
        C(max_nodes), C(service_account).
    type: dict
  on_immutable_change:
    description:
      - What to do when a creation-time setting differs.
      - V(fail) fails before changing anything; V(warn) warns and applies the in-place updates.
    type: str
    choices: [fail, warn]
    default: fail
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: all
notes:
  - GKE allows one operation at a time per cluster; a request refused with "incompatible operation" is retried with backoff.
seealso:
  - module: llm.platform.gke_node_pool
  - module: llm.platform.gke_kubeconfig
"""

EXAMPLES = r"""
- name: Zonal Dataplane V2 cluster with Workload Identity and a CPU system pool
  llm.platform.gke_cluster:
    project: my-project
    location: us-central1-a
    name: llm-platform
    release_channel: REGULAR
    gateway_api: CHANNEL_STANDARD
    initial_node_pool:
      name: default-pool
      machine_type: e2-standard-4
      min_nodes: 1
      max_nodes: 3
      workload_metadata: GKE_METADATA
  register: cluster

- name: Delete it (waits for the operation)
  llm.platform.gke_cluster:
    project: my-project
    location: us-central1-a
    name: llm-platform
    state: absent
"""

RETURN = r"""
cluster:
  description: Selected fields of the cluster after the run.
  returned: when it exists
  type: dict
  contains:
    endpoint:
      description: Control-plane IP address.
      type: str
    ca_certificate:
      description: Base64 PEM of the cluster CA (public).
      type: str
    status:
      description: Cluster status (RUNNING, PROVISIONING, RECONCILING, ...).
      type: str
    current_master_version:
      description: Kubernetes version of the control plane.
      type: str
    workload_pool:
      description: Workload Identity pool, empty when disabled.
      type: str
    gateway_api:
      description: Gateway API channel (V(CHANNEL_DISABLED) when off).
      type: str
    location:
      description: Cluster location.
      type: str
updates:
  description: Settings updated in place (or that would be in check mode).
  returned: always
  type: list
  elements: str
needs_recreation:
  description: Creation-time settings that differ (field, current, desired); the cluster must be deleted and recreated.
  returned: always
  type: list
  elements: dict
requests:
  description: Mutating requests sent (method, service, path, body); empty in check mode.
  returned: always
  type: list
  elements: dict
operations:
  description: Long-running operations waited for, with a progress trail.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llm.platform.plugins.module_utils._gcp import GcpError, GcpModule, gcp_argument_spec
from ansible_collections.llm.platform.plugins.module_utils._gke import pool_body


def desired(p):
    return {
        "release_channel": p["release_channel"],
        "workload_pool": ("%s.svc.id.goog" % p["project"]) if p["workload_identity"] else "",
        "datapath_provider": p["datapath_provider"],
        "vpc_native": p["vpc_native"],
        "network": p["network"],
        "subnetwork": p["subnetwork"],
        "private_nodes": p["private_nodes"],
        "master_authorized_networks": _man(p["master_authorized_networks"]),
        "resource_labels": p["resource_labels"],
        "gateway_api": p["gateway_api"],
    }


def _man(networks):
    if networks is None:
        return None
    return sorted((n["cidr_block"], n.get("display_name") or "") for n in networks)


def observed(cluster):
    man = cluster.get("masterAuthorizedNetworksConfig") or {}
    private = (cluster.get("privateClusterConfig") or {}).get("enablePrivateNodes")
    if private is None:
        private = (cluster.get("networkConfig") or {}).get("defaultEnablePrivateNodes")
    datapath = (cluster.get("networkConfig") or {}).get("datapathProvider") or "LEGACY_DATAPATH"
    return {
        "release_channel": (cluster.get("releaseChannel") or {}).get("channel") or "UNSPECIFIED",
        "workload_pool": (cluster.get("workloadIdentityConfig") or {}).get("workloadPool") or "",
        "datapath_provider": "LEGACY_DATAPATH" if datapath == "DATAPATH_PROVIDER_UNSPECIFIED" else datapath,
        "vpc_native": bool((cluster.get("ipAllocationPolicy") or {}).get("useIpAliases")),
        "network": (cluster.get("network") or "").rsplit("/", 1)[-1] or None,
        "subnetwork": (cluster.get("subnetwork") or "").rsplit("/", 1)[-1] or None,
        "private_nodes": bool(private),
        "master_authorized_networks": (
            sorted((c.get("cidrBlock"), c.get("displayName") or "") for c in man.get("cidrBlocks") or []) if man.get("enabled") else []
        ),
        "resource_labels": cluster.get("resourceLabels") or {},
        "gateway_api": ((cluster.get("networkConfig") or {}).get("gatewayApiConfig") or {}).get("channel") or "CHANNEL_DISABLED",
    }


IMMUTABLE = ("datapath_provider", "vpc_native", "network", "subnetwork", "private_nodes")


def create_body(p):
    want = desired(p)
    cluster = {
        "name": p["name"],
        "networkConfig": {"datapathProvider": p["datapath_provider"]},
        "ipAllocationPolicy": {"useIpAliases": p["vpc_native"]},
    }
    if want["release_channel"]:
        cluster["releaseChannel"] = {"channel": want["release_channel"]}
    if want["workload_pool"]:
        cluster["workloadIdentityConfig"] = {"workloadPool": want["workload_pool"]}
    if p["network"]:
        cluster["network"] = p["network"]
    if p["subnetwork"]:
        cluster["subnetwork"] = p["subnetwork"]
    if p["private_nodes"]:
        private = {"enablePrivateNodes": True}
        if p["master_ipv4_cidr_block"]:
            private["masterIpv4CidrBlock"] = p["master_ipv4_cidr_block"]
        cluster["privateClusterConfig"] = private
    if p["master_authorized_networks"]:
        cluster["masterAuthorizedNetworksConfig"] = _man_body(p["master_authorized_networks"])
    if p["resource_labels"]:
        cluster["resourceLabels"] = p["resource_labels"]
    if p["gateway_api"]:
        cluster["networkConfig"]["gatewayApiConfig"] = {"channel": p["gateway_api"]}
    pool = dict(p["initial_node_pool"] or {"name": "default-pool", "min_nodes": 1, "max_nodes": 3})
    cluster["nodePools"] = [pool_body(pool.pop("name", "default-pool"), pool)]
    return {"cluster": cluster}


def _man_body(networks):
    return {
        "enabled": bool(networks),
        "cidrBlocks": [{"cidrBlock": n["cidr_block"], "displayName": n.get("display_name") or ""} for n in networks],
    }


def summary(cluster):
    return {
        "name": cluster.get("name"),
        "location": cluster.get("location"),
        "endpoint": cluster.get("endpoint"),
        "ca_certificate": (cluster.get("masterAuth") or {}).get("clusterCaCertificate"),
        "status": cluster.get("status"),
        "current_master_version": cluster.get("currentMasterVersion"),
        "workload_pool": (cluster.get("workloadIdentityConfig") or {}).get("workloadPool") or "",
        "gateway_api": ((cluster.get("networkConfig") or {}).get("gatewayApiConfig") or {}).get("channel") or "CHANNEL_DISABLED",
    }


def main():
    spec = gcp_argument_spec()
    spec.update(
        project={"type": "str", "required": True},
        location={"type": "str", "required": True},
        name={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        release_channel={"type": "str", "choices": ["RAPID", "REGULAR", "STABLE", "EXTENDED", "UNSPECIFIED"]},
        workload_identity={"type": "bool", "default": True},
        datapath_provider={"type": "str", "choices": ["ADVANCED_DATAPATH", "LEGACY_DATAPATH"], "default": "ADVANCED_DATAPATH"},
        vpc_native={"type": "bool", "default": True},
        network={"type": "str"},
        subnetwork={"type": "str"},
        private_nodes={"type": "bool", "default": False},
        master_ipv4_cidr_block={"type": "str"},
        master_authorized_networks={
            "type": "list",
            "elements": "dict",
            "options": {"cidr_block": {"type": "str", "required": True}, "display_name": {"type": "str", "default": ""}},
        },
        resource_labels={"type": "dict"},
        gateway_api={"type": "str", "choices": ["CHANNEL_STANDARD", "CHANNEL_EXPERIMENTAL", "CHANNEL_DISABLED"]},
        initial_node_pool={"type": "dict"},
        on_immutable_change={"type": "str", "choices": ["fail", "warn"], "default": "fail"},
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    gcp = GcpModule(module)
    client, p = gcp.client, module.params
    project, location = p["project"], p["location"]
    base = "v1/projects/%s/locations/%s/clusters" % (project, location)
    path = base + "/" + p["name"]
    result = {"changed": False, "updates": [], "needs_recreation": []}
    try:
        current = client.get("container", path)
        if p["state"] == "absent":
            if current:
                result["changed"] = True
                result["diff"] = {"before": {"name": p["name"], "state": "present"}, "after": {"name": p["name"], "state": "absent"}}
                if not module.check_mode:
                    status, op = client.request("DELETE", "container", path, allow=(404,))
                    if status != 404:
                        client.wait_gke(project, location, op, "delete cluster %s" % p["name"])
            gcp.exit(**result)
        if not current:
            body = create_body(p)
            result["changed"] = True
            result["diff"] = {"before": {}, "after": body["cluster"]}
            if not module.check_mode:
                status, op = client.request("POST", "container", base, body=body, allow=(409,))
                if status != 409:
                    client.wait_gke(project, location, op, "create cluster %s" % p["name"])
                result["cluster"] = summary(client.get("container", path) or {})
            gcp.exit(**result)
        want, have = desired(p), observed(current)
        before, after = {}, {}
        for key, value in want.items():
            if value is None:
                continue
            before[key], after[key] = have[key], value
        changed_keys = [k for k in after if before[k] != after[k]]
        immutable = [{"field": k, "current": before[k], "desired": after[k]} for k in changed_keys if k in IMMUTABLE]
        mutable = [k for k in changed_keys if k not in IMMUTABLE]
        result.update(updates=mutable, needs_recreation=immutable, diff={"before": before, "after": after})
        if immutable:
            text = "; ".join("%s: %s -> %s" % (i["field"], i["current"], i["desired"]) for i in immutable)
            msg = "Cluster %s needs recreation (GKE sets these only at creation): %s" % (p["name"], text)
            if p["on_immutable_change"] == "fail":
                module.fail_json(msg=msg + ". Run the teardown and converge again, or revert the setting.", **result)
            module.warn(msg)
        result["changed"] = bool(mutable)
        if mutable and not module.check_mode:
            for key in mutable:
                if key == "resource_labels":
                    body = {"resourceLabels": p["resource_labels"], "labelFingerprint": current.get("labelFingerprint", "")}
                    _status, op = client.request("POST", "container", path + ":setResourceLabels", body=body)
                else:
                    update = {
                        "release_channel": lambda: {"desiredReleaseChannel": {"channel": p["release_channel"]}},
                        "workload_pool": lambda: {"desiredWorkloadIdentityConfig": {"workloadPool": want["workload_pool"]}},
                        "master_authorized_networks": lambda: {
                            "desiredMasterAuthorizedNetworksConfig": _man_body(p["master_authorized_networks"])
                        },
                        "gateway_api": lambda: {"desiredGatewayApiConfig": {"channel": p["gateway_api"]}},
                    }[key]()
                    _status, op = client.request("PUT", "container", path, body={"update": update})
                client.wait_gke(project, location, op, "update cluster %s: %s" % (p["name"], key))
            current = client.get("container", path) or current
        result["cluster"] = summary(current)
    except GcpError as exc:
        gcp.fail(exc, **result)
    gcp.exit(**result)


if __name__ == "__main__":
    main()
