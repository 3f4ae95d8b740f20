#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage a GKE node pool (CPU or GPU) through the GKE v1 REST API."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gke_node_pool
short_description: Create, update in place or delete a GKE node pool (GPU pools with scale-to-zero)
version_added: 0.1.0
description:
  - Reads the pool with C(GET v1/projects/{project}/locations/{location}/clusters/{cluster}/nodePools/{name})
    and creates it with C(POST .../nodePools) (a C(409) race reads it back), polling the operation.
  - Updates in place, one call per field as GKE requires, each followed by its operation -
    autoscaling (C(:setAutoscaling)), auto-repair/upgrade (C(:setManagement)), and C(PUT) with one of
    taints, labels, workload metadata mode, machine type, disk type, disk size, image type, node locations.
  - Accelerator type/count/driver, spot, service account and OAuth scopes are fixed at creation; a
    difference is reported in RV(needs_recreation) and, with O(on_immutable_change=fail) (the default),
    fails before anything is changed.
  - A GPU pool carries the accelerator with a GKE-managed driver (O(gpu_driver_version)), typically
    O(min_nodes=0) for scale-to-zero and the taint C(nvidia.com/gpu=present:NoSchedule).
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
    description: Cluster location, a zone (zonal cluster) or a region (regional cluster).
    type: str
    required: true
  cluster:
    description: Cluster name.
    type: str
    required: true
  name:
    description: Node pool name.
    type: str
    required: true
  state:
    description: Whether the pool exists.
    type: str
    choices: [present, absent]
    default: present
  machine_type:
    description: Machine type such as V(g2-standard-4); updated in place (nodes are recreated by GKE).
    type: str
  disk_size_gb:
    description: Boot disk size in GB; updated in place.
    type: int
  disk_type:
    description: Boot disk type such as V(pd-balanced); updated in place.
    type: str
  image_type:
    description: Node image such as V(COS_CONTAINERD); updated in place.
    type: str
  min_nodes:
    description: Autoscaler minimum per zone; V(0) scales the pool to zero.
    type: int
  max_nodes:
    description: Autoscaler maximum per zone.
    type: int
  autoscaling:
    description: Whether the cluster autoscaler manages the pool (between O(min_nodes) and O(max_nodes)).
    type: bool
    default: true
  location_policy:
    description: Autoscaler location policy.
    type: str
    choices: [BALANCED, ANY]
  initial_node_count:
    description: Nodes per zone at creation (default O(min_nodes), at least 1 when O(min_nodes) is unset).
    type: int
  spot:
    description: Spot VMs (creation only).
    type: bool
  accelerator_type:
    description: GPU type such as V(nvidia-l4) or V(nvidia-tesla-t4) (creation only).
    type: str
  accelerator_count:
    description: GPUs per node (creation only).
    type: int
  gpu_driver_version:
    description: GKE-managed driver installation (creation only); V(INSTALLATION_DISABLED) leaves drivers to you.
    type: str
    choices: [DEFAULT, LATEST, INSTALLATION_DISABLED]
  taints:
    description: Node taints (compared as a set, updated in place).
    type: list
    elements: dict
    suboptions:
      key:
        description: Taint key.
        type: str
        required: true
      value:
        description: Taint value.
        type: str
        default: ""
      effect:
        description: Taint effect (API or Kubernetes spelling).
        type: str
        default: NO_SCHEDULE
        choices: [NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE, NoSchedule, PreferNoSchedule, NoExecute]
  labels:
    description: Kubernetes node labels (updated in place).
    type: dict
  service_account:
    description: Node service-account email (creation only).
    type: str
  oauth_scopes:
    description: Node OAuth scopes (creation only).
    type: list
    elements: str
  workload_metadata:
    description: V(GKE_METADATA) enables the Workload Identity metadata server on the nodes.
    type: str
    choices: [GKE_METADATA, GCE_METADATA]
  auto_repair:
    description: Node auto-repair.
    type: bool
  auto_upgrade:
    description: Node auto-upgrade.
    type: bool
  node_locations:
    description: Zones of the pool (regional clusters); updated in place.
    type: list
    elements: str
  on_immutable_change:
    description:
      - What to do when a creation-time field differs.
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
seealso:
  - module: llm.platform.gke_cluster
"""

EXAMPLES = r"""
- name: L4 pool that scales to zero
  llm.platform.gke_node_pool:
    project: my-project
    location: us-central1-a
    cluster: llm-platform
    name: gpu-l4
    machine_type: g2-standard-4
    disk_size_gb: 100
    image_type: COS_CONTAINERD
    accelerator_type: nvidia-l4
    accelerator_count: 1
    gpu_driver_version: DEFAULT
    min_nodes: 0
    max_nodes: 1
    spot: false
    workload_metadata: GKE_METADATA
    taints:
      - {key: nvidia.com/gpu, value: present, effect: NoSchedule}
"""

RETURN = r"""
node_pool:
  description: The pool as the API returns it after the run.
  returned: when it exists and not in check mode
  type: dict
updates:
  description: Fields updated in place (or that would be in check mode).
  returned: always
  type: list
  elements: str
needs_recreation:
  description: Creation-time fields that differ (field, current, desired); the pool must be deleted and recreated.
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
from ansible_collections.llm.platform.plugins.module_utils._gke import POOL_OPTIONS, pool_body, pool_changes


def main():
    spec = gcp_argument_spec()
    spec.update(POOL_OPTIONS)
    spec.update(
        project={"type": "str", "required": True},
        location={"type": "str", "required": True},
        cluster={"type": "str", "required": True},
        name={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        on_immutable_change={"type": "str", "choices": ["fail", "warn"], "default": "fail"},
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    gcp = GcpModule(module)
    client, p = gcp.client, module.params
    project, location = p["project"], p["location"]
    base = "v1/projects/%s/locations/%s/clusters/%s/nodePools" % (project, location, p["cluster"])
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
                        client.wait_gke(project, location, op, "delete node pool %s" % p["name"])
            gcp.exit(**result)
        if not current:
            body = pool_body(p["name"], p)
            result["changed"] = True
            result["diff"] = {"before": {}, "after": body}
            if not module.check_mode:
                status, op = client.request("POST", "container", base, body={"nodePool": body}, allow=(409,))
                if status != 409:
                    client.wait_gke(project, location, op, "create node pool %s" % p["name"])
                result["node_pool"] = client.get("container", path)
            gcp.exit(**result)
        updates, immutable, before, after = pool_changes(current, p)
        result.update(updates=[u[0] for u in updates], needs_recreation=immutable, diff={"before": before, "after": after})
        if immutable:
            text = "; ".join("%s: %s -> %s" % (i["field"], i["current"], i["desired"]) for i in immutable)
            msg = "Node pool %s needs recreation (GKE cannot change these in place): %s" % (p["name"], text)
            if p["on_immutable_change"] == "fail":
                module.fail_json(msg=msg + ". Delete and recreate the pool (state=absent, then present).", **result)
            module.warn(msg)
        result["changed"] = bool(updates)
        if updates and not module.check_mode:
            for field, method, suffix, body in updates:
                _status, op = client.request(method, "container", path + suffix, body=body)
                client.wait_gke(project, location, op, "update node pool %s: %s" % (p["name"], field))
        result["node_pool"] = client.get("container", path) if updates and not module.check_mode else current
    except GcpError as exc:
        gcp.fail(exc, **result)
    gcp.exit(**result)


if __name__ == "__main__":
    main()
