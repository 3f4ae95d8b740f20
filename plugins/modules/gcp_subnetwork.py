#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage a VPC subnetwork, in particular the proxy-only subnet regional load balancers need."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gcp_subnetwork
short_description: Create or delete a VPC subnetwork (the proxy-only subnet of regional Application Load Balancers)
version_added: 0.1.0
description:
  - Reads the subnetwork with C(GET compute/v1/projects/{project}/regions/{region}/subnetworks/{name}), creates it with
    C(POST .../subnetworks) and deletes it with C(DELETE), waiting for the regional operation.
  - A proxy-only subnet (O(purpose=REGIONAL_MANAGED_PROXY)) is what GKE's regional gateway classes (C(gke-l7-rilb),
    C(gke-l7-regional-external-managed)) take their Envoy proxies' addresses from. A network has at most one ACTIVE
    one per region, so with O(reuse_existing=true) an ACTIVE proxy-only subnet of another name in the same network and
    region is reported (RV(reused)) instead of creating a second one, which the API would refuse.
  - Network, range, purpose and role are creation-time settings here; a difference fails before anything changes.
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
  region:
    description: Region, for example V(us-central1); a zone such as V(us-central1-a) is reduced to its region.
    type: str
    required: true
  name:
    description: Subnetwork name.
    type: str
    required: true
  network:
    description: VPC network name (or C(projects/{project}/global/networks/{name})).
    type: str
    default: default
  ip_cidr_range:
    description: Primary range, for example V(10.129.0.0/23) (a /23 or larger is recommended for proxy-only subnets).
    type: str
  purpose:
    description: V(PRIVATE) for an ordinary subnet, V(REGIONAL_MANAGED_PROXY) for a proxy-only subnet.
    type: str
    choices: [PRIVATE, REGIONAL_MANAGED_PROXY]
    default: REGIONAL_MANAGED_PROXY
  role:
    description: Role of a proxy-only subnet.
    type: str
    choices: [ACTIVE, BACKUP]
    default: ACTIVE
  reuse_existing:
    description: Report an ACTIVE proxy-only subnet of another name in the same network and region instead of creating one.
    type: bool
    default: true
  description:
    description: Description of a new subnetwork.
    type: str
    default: managed by llm.platform
  state:
    description: Whether the subnetwork exists.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: all
notes:
  - Needs C(compute.subnetworks.get), C(.list), C(.create) and C(.delete), for example C(roles/compute.networkAdmin).
seealso:
  - module: llm.platform.gke_cluster
"""

EXAMPLES = r"""
- name: Proxy-only subnet of the region, for the gke-l7-rilb gateway class
  llm.platform.gcp_subnetwork:
    project: my-project
    region: us-central1
    name: llm-platform-proxy-only
    network: default
    ip_cidr_range: 10.129.0.0/23
"""

RETURN = r"""
subnetwork:
  description: The subnetwork in place (the reused one with RV(reused)).
  returned: when it exists
  type: dict
  contains:
    name:
      description: Name.
      type: str
    ip_cidr_range:
      description: Primary range.
      type: str
    purpose:
      description: Purpose.
      type: str
    role:
      description: Role (proxy-only subnets).
      type: str
    network:
      description: Network name.
      type: str
reused:
  description: True when an existing ACTIVE proxy-only subnet of another name serves the region.
  returned: always
  type: bool
requests:
  description: Mutating requests sent (method, service, path, body); empty in check mode.
  returned: always
  type: list
  elements: dict
operations:
  description: Regional operations waited for, with a progress trail.
  returned: always
  type: list
  elements: dict
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llm.platform.plugins.module_utils._gcp import GcpError, GcpModule, gcp_argument_spec

_ZONE = re.compile(r"^([a-z]+-[a-z]+[0-9]+)-[a-z]$")


def region_of(location):
    found = _ZONE.match(location)
    return found.group(1) if found else location


def summary(sub):
    return {
        "name": sub.get("name"),
        "ip_cidr_range": sub.get("ipCidrRange"),
        "purpose": sub.get("purpose") or "PRIVATE",
        "role": sub.get("role") or "",
        "network": (sub.get("network") or "").rsplit("/", 1)[-1],
    }


def main():
    spec = gcp_argument_spec()
    spec.update(
        project={"type": "str", "required": True},
        region={"type": "str", "required": True},
        name={"type": "str", "required": True},
        network={"type": "str", "default": "default"},
        ip_cidr_range={"type": "str"},
        purpose={"type": "str", "choices": ["PRIVATE", "REGIONAL_MANAGED_PROXY"], "default": "REGIONAL_MANAGED_PROXY"},
        role={"type": "str", "choices": ["ACTIVE", "BACKUP"], "default": "ACTIVE"},
        reuse_existing={"type": "bool", "default": True},
        description={"type": "str", "default": "managed by llm.platform"},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, required_if=[("state", "present", ("ip_cidr_range",))])
    gcp = GcpModule(module)
    client, p = gcp.client, module.params
    project, region = p["project"], region_of(p["region"])
    network = p["network"].rsplit("/", 1)[-1]
    base = "compute/v1/projects/%s/regions/%s/subnetworks" % (project, region)
    proxy = p["purpose"] == "REGIONAL_MANAGED_PROXY"
    want = {
        "name": p["name"],
        "ip_cidr_range": p["ip_cidr_range"],
        "purpose": p["purpose"],
        "role": p["role"] if proxy else "",
        "network": network,
    }
    result = {"changed": False, "reused": False}
    try:
        current = client.get("compute", "%s/%s" % (base, p["name"]))
        if p["state"] == "absent":
            if current:
                result.update(changed=True, diff={"before": summary(current), "after": {}})
                if not module.check_mode:
                    _status, op = client.request("DELETE", "compute", "%s/%s" % (base, p["name"]))
                    client.wait_compute(project, region, op, "delete subnetwork %s" % p["name"])
            gcp.exit(**result)
        if current:
            have = summary(current)
            differ = sorted(k for k in want if have.get(k) != want[k])
            if differ:
                module.fail_json(
                    msg="Subnetwork %s of %s differs in %s (%s); these are set at creation: delete it or change the options."
                    % (p["name"], region, ", ".join(differ), ", ".join("%s: %s -> %s" % (k, have.get(k), want[k]) for k in differ)),
                    subnetwork=have,
                    **result,
                )
            gcp.exit(subnetwork=have, diff={"before": have, "after": have}, **result)
        if proxy and p["role"] == "ACTIVE" and p["reuse_existing"]:
            listing = client.get("compute", base, params={"filter": 'purpose="REGIONAL_MANAGED_PROXY"'}) or {}
            for sub in listing.get("items") or []:
                found = summary(sub)
                if found["network"] == network and found["role"] == "ACTIVE" and found["purpose"] == "REGIONAL_MANAGED_PROXY":
                    result["reused"] = True
                    gcp.exit(subnetwork=found, diff={"before": found, "after": found}, **result)
        body = {
            "name": p["name"],
            "network": "projects/%s/global/networks/%s" % (project, network),
            "ipCidrRange": p["ip_cidr_range"],
            "purpose": p["purpose"],
            "description": p["description"],
        }
        if proxy:
            body["role"] = p["role"]
        result.update(changed=True, diff={"before": {}, "after": want})
        if not module.check_mode:
            status, op = client.request("POST", "compute", base, body=body, allow=(409,))
            if status != 409:
                client.wait_compute(project, region, op, "create subnetwork %s" % p["name"])
            result["subnetwork"] = summary(client.get("compute", "%s/%s" % (base, p["name"])) or body)
    except GcpError as exc:
        gcp.fail(exc, **result)
    gcp.exit(**result)


if __name__ == "__main__":
    main()
