#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""List what of a GKE substrate still exists (and bills) after a teardown."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gke_audit
short_description: List GKE substrate resources that still exist (cluster, node pools, Kubernetes-made disks, load balancers, addresses)
version_added: 0.1.0
description:
  - Read-only. Reads the cluster and its node pools (GKE C(GET .../clusters/{cluster})) and the Compute
    aggregated lists of disks, forwarding rules and addresses (C(GET compute/v1/projects/{project}/aggregated/...)).
  - Disks count when Kubernetes made them (description C(kubernetes.io/created-for), label
    C(goog-k8s-cluster-name) of the cluster, or a C(pvc-) name); forwarding rules and addresses count when
    their description names a Kubernetes Service (C(kubernetes.io/service-name)) or their name is one GKE
    gives to Service and Gateway load balancers (C(k8s), C(gkegw)). They are not scoped to one cluster, so
    review the list before deleting anything by hand.
  - Also lists the service accounts the substrate created, which do not bill and are kept.
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
    description: Cluster location.
    type: str
    required: true
  cluster:
    description: Cluster name.
    type: str
    required: true
  service_accounts:
    description: Service-account emails to report on.
    type: list
    elements: str
    default: []
  fail_on_remaining:
    description: Fail when anything that bills still exists.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
seealso:
  - module: llm.platform.gke_cluster
"""

EXAMPLES = r"""
- name: Audit after teardown
  llm.platform.gke_audit:
    project: my-project
    location: us-central1-a
    cluster: llm-platform
  register: audit
"""

RETURN = r"""
remaining:
  description: What still exists, by kind (cluster, node_pools, disks, forwarding_rules, addresses), each a list of names.
  returned: always
  type: dict
kept:
  description: Resources kept on purpose (service accounts), by kind.
  returned: always
  type: dict
clean:
  description: True when nothing that bills remains.
  returned: always
  type: bool
requests:
  description: Always empty (read-only).
  returned: always
  type: list
  elements: dict
operations:
  description: Always empty.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llm.platform.plugins.module_utils._gcp import GcpError, GcpModule, gcp_argument_spec


def aggregated(client, project, kind):
    items, token = [], None
    while True:
        params = {"returnPartialSuccess": "true"}
        if token:
            params["pageToken"] = token
        page = client.get("compute", "compute/v1/projects/%s/aggregated/%s" % (project, kind), params=params) or {}
        for scope in (page.get("items") or {}).values():
            items.extend(scope.get(kind) or [])
        token = page.get("nextPageToken")
        if not token:
            return items


def main():
    spec = gcp_argument_spec()
    spec.update(
        project={"type": "str", "required": True},
        location={"type": "str", "required": True},
        cluster={"type": "str", "required": True},
        service_accounts={"type": "list", "elements": "str", "default": []},
        fail_on_remaining={"type": "bool", "default": False},
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    gcp = GcpModule(module)
    client, p = gcp.client, module.params
    remaining = {"cluster": [], "node_pools": [], "disks": [], "forwarding_rules": [], "addresses": []}
    kept = {"service_accounts": []}
    try:
        cluster = client.get("container", "v1/projects/%s/locations/%s/clusters/%s" % (p["project"], p["location"], p["cluster"]))
        if cluster:
            remaining["cluster"].append(p["cluster"])
            remaining["node_pools"] = [pool.get("name") for pool in cluster.get("nodePools") or []]
        for disk in aggregated(client, p["project"], "disks"):
            labels = disk.get("labels") or {}
            if (
                "kubernetes.io/created-for" in (disk.get("description") or "")
                or labels.get("goog-k8s-cluster-name") == p["cluster"]
                or disk.get("name", "").startswith("pvc-")
            ):
                remaining["disks"].append(disk.get("name"))
        for kind in ("forwardingRules", "addresses"):
            key = "forwarding_rules" if kind == "forwardingRules" else "addresses"
            for item in aggregated(client, p["project"], kind):
                name = item.get("name", "")
                if "kubernetes.io/service-name" in (item.get("description") or "") or name.startswith(("k8s", "gkegw")):
                    remaining[key].append(name)
        for email in p["service_accounts"]:
            if client.get("iam", "v1/projects/%s/serviceAccounts/%s" % (p["project"], email)):
                kept["service_accounts"].append(email)
    except GcpError as exc:
        gcp.fail(exc)
    clean = not any(remaining.values())
    if p["fail_on_remaining"] and not clean:
        module.fail_json(
            msg="Resources still exist after teardown: %s" % {k: v for k, v in remaining.items() if v},
            remaining=remaining,
            kept=kept,
            clean=clean,
        )
    gcp.exit(changed=False, remaining=remaining, kept=kept, clean=clean)


if __name__ == "__main__":
    main()
