#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Enable (or disable) Google Cloud APIs through the Service Usage API."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gcp_service
short_description: Enable or disable Google Cloud APIs (Service Usage)
version_added: 0.1.0
description:
  - Reads each service with C(GET v1/projects/{project}/services/{service}) and enables the missing ones
    with one C(POST v1/projects/{project}/services:batchEnable) per 20 services, then polls the operation.
  - With O(state=disabled) each enabled service is disabled with C(POST .../services/{service}:disable).
  - Blank projects need C(serviceusage.googleapis.com) and C(cloudresourcemanager.googleapis.com)
    enabled by hand once (this module needs the first to run).
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
  services:
    description: Service names such as V(container.googleapis.com).
    type: list
    elements: str
    required: true
  state:
    description: Whether the services are enabled or disabled.
    type: str
    choices: [enabled, disabled]
    default: enabled
  disable_dependent_services:
    description: With O(state=disabled), also disable services that depend on these.
    type: bool
    default: false
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
- name: Enable the APIs the GKE substrate needs
  llm.platform.gcp_service:
    project: my-project
    services:
      - container.googleapis.com
      - compute.googleapis.com
      - iam.googleapis.com
      - iamcredentials.googleapis.com
      - secretmanager.googleapis.com
"""

RETURN = r"""
enabled:
  description: Services enabled after the run (of those listed).
  returned: always
  type: list
  elements: str
changed_services:
  description: Services whose state changed (or would change in check mode).
  returned: always
  type: list
  elements: str
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

BATCH = 20


def main():
    spec = gcp_argument_spec()
    spec.update(
        project={"type": "str", "required": True},
        services={"type": "list", "elements": "str", "required": True},
        state={"type": "str", "choices": ["enabled", "disabled"], "default": "enabled"},
        disable_dependent_services={"type": "bool", "default": False},
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    gcp = GcpModule(module)
    client, project = gcp.client, module.params["project"]
    services = list(dict.fromkeys(module.params["services"]))
    want = module.params["state"] == "enabled"
    try:
        before = {}
        for svc in services:
            got = client.get("serviceusage", "v1/projects/%s/services/%s" % (project, svc))
            before[svc] = bool(got) and got.get("state") == "ENABLED"
        todo = [s for s in services if before[s] != want]
        if todo and not module.check_mode:
            if want:
                for i in range(0, len(todo), BATCH):
                    chunk = todo[i : i + BATCH]
                    _status, op = client.request(
                        "POST", "serviceusage", "v1/projects/%s/services:batchEnable" % project, body={"serviceIds": chunk}
                    )
                    client.wait_lro("serviceusage", op, "enable " + ", ".join(chunk))
            else:
                for svc in todo:
                    _status, op = client.request(
                        "POST",
                        "serviceusage",
                        "v1/projects/%s/services/%s:disable" % (project, svc),
                        body={"disableDependentServices": module.params["disable_dependent_services"]},
                    )
                    client.wait_lro("serviceusage", op, "disable " + svc)
    except GcpError as exc:
        gcp.fail(exc)
    after = {s: (want if s in todo else before[s]) for s in services}
    gcp.exit(
        changed=bool(todo),
        enabled=[s for s in services if after[s]],
        changed_services=todo,
        diff={
            "before": {"enabled": sorted(s for s in services if before[s])},
            "after": {"enabled": sorted(s for s in services if after[s])},
        },
    )


if __name__ == "__main__":
    main()
