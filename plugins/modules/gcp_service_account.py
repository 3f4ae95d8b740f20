#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage a Google Cloud IAM service account."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gcp_service_account
short_description: Create, update or delete a Google Cloud IAM service account
version_added: 0.1.0
description:
  - Reads the account with C(GET v1/projects/{project}/serviceAccounts/{email}), creates it with
    C(POST v1/projects/{project}/serviceAccounts) (a C(409 ALREADY_EXISTS) race reads it back),
    updates O(display_name) and O(account_description) in place with C(PATCH) and an C(updateMask), and
    deletes it with C(DELETE).
  - Never creates keys; grant access with Workload Identity (M(llm.platform.gcp_iam_binding)).
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
  name:
    description: Account id (6-30 characters, the part before C(@)); the email is C({name}@{project}.iam.gserviceaccount.com).
    type: str
    required: true
  display_name:
    description: Display name; left alone when unset.
    type: str
  account_description:
    description: Description of the account; left alone when unset.
    type: str
  state:
    description: Whether the account exists.
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
seealso:
  - module: llm.platform.gcp_iam_binding
"""

EXAMPLES = r"""
- name: GKE node service account (least privilege; roles are bound separately)
  llm.platform.gcp_service_account:
    project: my-project
    name: gke-llm-platform-nodes
    display_name: GKE nodes of llm-platform
"""

RETURN = r"""
email:
  description: Email of the service account.
  returned: always
  type: str
  sample: gke-llm-platform-nodes@my-project.iam.gserviceaccount.com
service_account:
  description: The account as the API returns it (absent when deleted or in check mode before creation).
  returned: when it exists
  type: dict
requests:
  description: Mutating requests sent (method, service, path, body); empty in check mode.
  returned: always
  type: list
  elements: dict
operations:
  description: Always empty (IAM calls are synchronous); kept for a uniform result.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llm.platform.plugins.module_utils._gcp import GcpError, GcpModule, gcp_argument_spec

FIELDS = (("display_name", "displayName"), ("account_description", "description"))


def main():
    spec = gcp_argument_spec()
    spec.update(
        project={"type": "str", "required": True},
        name={"type": "str", "required": True},
        display_name={"type": "str"},
        account_description={"type": "str"},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    gcp = GcpModule(module)
    client, params = gcp.client, module.params
    project = params["project"]
    email = params["name"] if "@" in params["name"] else "%s@%s.iam.gserviceaccount.com" % (params["name"], project)
    account_id = email.split("@")[0]
    path = "v1/projects/%s/serviceAccounts/%s" % (project, email)
    wanted = {api: params[opt] for opt, api in FIELDS if params[opt] is not None}
    changed, result = False, None
    try:
        current = client.get("iam", path)
        before = {api: current.get(api, "") for _opt, api in FIELDS if api in wanted} if current else {}
        if params["state"] == "absent":
            if current:
                changed = True
                if not module.check_mode:
                    client.request("DELETE", "iam", path, allow=(404,))
            after = {}
        elif not current:
            changed = True
            after = dict(wanted)
            if not module.check_mode:
                body = {"accountId": account_id, "serviceAccount": wanted}
                status, result = client.request("POST", "iam", "v1/projects/%s/serviceAccounts" % project, body=body, allow=(409,))
                if status == 409:
                    result = client.get("iam", path)
                    changed = any(result.get(k, "") != v for k, v in wanted.items())
                    if changed:
                        result = _patch(client, path, wanted)
        else:
            result = current
            after = dict(before, **wanted)
            if after != before:
                changed = True
                if not module.check_mode:
                    result = _patch(client, path, {k: v for k, v in wanted.items() if before.get(k) != v})
    except GcpError as exc:
        gcp.fail(exc, email=email)
    out = {"changed": changed, "email": email, "diff": {"before": before, "after": after}}
    if result:
        out["service_account"] = result
    gcp.exit(**out)


def _patch(client, path, fields):
    body = {"serviceAccount": dict(fields), "updateMask": ",".join(sorted(fields))}
    _status, result = client.request("PATCH", "iam", path, body=body)
    return result


if __name__ == "__main__":
    main()
