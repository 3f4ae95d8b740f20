#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Add or remove members of IAM role bindings on a project, service account or secret."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gcp_iam_binding
short_description: Additive IAM role bindings on a project, a service account or a Secret Manager secret
version_added: 0.1.0
description:
  - Read-modify-write of an IAM policy with its C(etag). Only the listed members of the listed roles are
    touched; other members, roles and conditional bindings are left as they are.
  - Project policies use Cloud Resource Manager C(POST v1/projects/{project}:getIamPolicy) and
    C(:setIamPolicy); service-account policies use IAM C(POST v1/projects/{project}/serviceAccounts/{email}:getIamPolicy)
    (this is where C(roles/iam.workloadIdentityUser) for a Kubernetes service account is granted);
    secret policies use Secret Manager C(GET v1/projects/{project}/secrets/{secret}:getIamPolicy).
  - A concurrent change (C(409 ABORTED), stale etag) re-reads the policy and tries again.
author:
  - llm.platform maintainers (@llm-platform)
extends_documentation_fragment:
  - llm.platform.gcp
  - ansible.builtin.action_common_attributes
options:
  project:
    description: Project id (the resource itself for O(resource_type=project)).
    type: str
    required: true
  resource_type:
    description: Kind of resource whose policy is edited.
    type: str
    choices: [project, service_account, secret]
    default: project
  resource:
    description:
      - Service-account email (or account id) for O(resource_type=service_account), secret id for
        O(resource_type=secret). Ignored for projects.
    type: str
  bindings:
    description: Roles and the members that must (or must not) hold them.
    type: list
    elements: dict
    required: true
    suboptions:
      role:
        description: Role such as V(roles/secretmanager.secretAccessor).
        type: str
        required: true
      members:
        description: Members such as V(serviceAccount:eso@p.iam.gserviceaccount.com) or V(serviceAccount:p.svc.id.goog[ns/ksa]).
        type: list
        elements: str
        required: true
  state:
    description: V(present) adds the members, V(absent) removes them.
    type: str
    choices: [present, absent]
    default: present
  max_conflict_retries:
    description: How often to re-read and retry after a concurrent policy change.
    type: int
    default: 5
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: all
seealso:
  - module: llm.platform.gcp_service_account
"""

EXAMPLES = r"""
- name: External Secrets may read Secret Manager
  llm.platform.gcp_iam_binding:
    project: my-project
    bindings:
      - role: roles/secretmanager.secretAccessor
        members: ["serviceAccount:external-secrets@my-project.iam.gserviceaccount.com"]

- name: Workload Identity for the in-cluster external-secrets service account
  llm.platform.gcp_iam_binding:
    project: my-project
    resource_type: service_account
    resource: external-secrets@my-project.iam.gserviceaccount.com
    bindings:
      - role: roles/iam.workloadIdentityUser
        members: ["serviceAccount:my-project.svc.id.goog[external-secrets/external-secrets]"]
"""

RETURN = r"""
added:
  description: C(role member) pairs added (or that would be).
  returned: always
  type: list
  elements: str
removed:
  description: C(role member) pairs removed (or that would be).
  returned: always
  type: list
  elements: str
requests:
  description: Mutating requests sent (method, service, path, body); empty in check mode.
  returned: always
  type: list
  elements: dict
operations:
  description: Always empty (IAM policy calls are synchronous).
  returned: always
  type: list
  elements: dict
"""

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llm.platform.plugins.module_utils._gcp import GcpError, GcpModule, gcp_argument_spec


def policy_calls(params):
    """(service, get method, get path, get body, get params, set path) for the resource."""
    project, kind, resource = params["project"], params["resource_type"], params["resource"]
    if kind == "project":
        base = "v1/projects/%s" % project
        return (
            "cloudresourcemanager",
            "POST",
            base + ":getIamPolicy",
            {"options": {"requestedPolicyVersion": 3}},
            None,
            base + ":setIamPolicy",
        )
    if not resource:
        raise GcpError("resource is required with resource_type=%s" % kind)
    if kind == "service_account":
        email = resource if "@" in resource else "%s@%s.iam.gserviceaccount.com" % (resource, project)
        base = "v1/projects/%s/serviceAccounts/%s" % (project, email)
        return "iam", "POST", base + ":getIamPolicy", None, {"options.requestedPolicyVersion": 3}, base + ":setIamPolicy"
    base = "v1/projects/%s/secrets/%s" % (project, resource)
    return "secretmanager", "GET", base + ":getIamPolicy", None, {"options.requestedPolicyVersion": 3}, base + ":setIamPolicy"


def apply(policy, bindings, present):
    """Return (new policy, added, removed) touching only unconditional bindings of the listed roles."""
    policy = copy.deepcopy(policy or {})
    entries = policy.setdefault("bindings", [])
    added, removed = [], []
    for want in bindings:
        role = want["role"]
        entry = next((b for b in entries if b.get("role") == role and not b.get("condition")), None)
        members = entry.get("members", []) if entry else []
        for member in want["members"]:
            if present and member not in members:
                members.append(member)
                added.append("%s %s" % (role, member))
            elif not present and member in members:
                members.remove(member)
                removed.append("%s %s" % (role, member))
        if entry is None and members:
            entries.append({"role": role, "members": members})
        elif entry is not None:
            entry["members"] = members
    policy["bindings"] = [b for b in entries if b.get("members")]
    return policy, added, removed


def _view(policy, bindings):
    roles = {b["role"] for b in bindings}
    out = {}
    for entry in (policy or {}).get("bindings", []):
        if entry.get("role") in roles and not entry.get("condition"):
            out[entry["role"]] = sorted(entry.get("members", []))
    return out


def main():
    spec = gcp_argument_spec()
    spec.update(
        project={"type": "str", "required": True},
        resource_type={"type": "str", "choices": ["project", "service_account", "secret"], "default": "project"},
        resource={"type": "str"},
        bindings={
            "type": "list",
            "elements": "dict",
            "required": True,
            "options": {
                "role": {"type": "str", "required": True},
                "members": {"type": "list", "elements": "str", "required": True},
            },
        },
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        max_conflict_retries={"type": "int", "default": 5},
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    gcp = GcpModule(module)
    client, params = gcp.client, module.params
    present = params["state"] == "present"
    try:
        service, get_method, get_path, get_body, get_params, set_path = policy_calls(params)
        attempt = 0
        while True:
            _status, current = client.request(get_method, service, get_path, body=get_body, params=get_params, read=True)
            new, added, removed = apply(current, params["bindings"], present)
            if not (added or removed) or module.check_mode:
                break
            new["version"] = max(3, new.get("version") or 1) if any(b.get("condition") for b in new["bindings"]) else new.get("version", 1)
            status, _result = client.request("POST", service, set_path, body={"policy": new}, allow=(409,))
            if status != 409:
                break
            attempt += 1
            if attempt > params["max_conflict_retries"]:
                raise GcpError("IAM policy of %s kept changing concurrently (409 ABORTED %d times)" % (get_path, attempt), status=409)
    except GcpError as exc:
        gcp.fail(exc)
    gcp.exit(
        changed=bool(added or removed),
        added=added,
        removed=removed,
        diff={"before": _view(current, params["bindings"]), "after": _view(new, params["bindings"])},
    )


if __name__ == "__main__":
    main()
