#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seed Secret Manager secrets with random values, create-if-absent."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gcp_secret
short_description: Create Secret Manager secrets with a random first version, never touching existing values
version_added: 0.1.0
description:
  - For each of O(secrets), reads the secret (C(GET v1/projects/{project}/secrets/{name})), creates it when
    missing (C(POST v1/projects/{project}/secrets?secretId={name}), automatic replication, O(labels)), and adds a
    first version with a random hex value (C(POST .../secrets/{name}:addVersion)) when it has no enabled version
    (C(GET .../versions/latest) answers 404, or 400 for a secret whose versions are all disabled or destroyed).
  - Create-if-absent only. An existing version is never replaced, so write-once values (the LiteLLM salt key)
    stay; rotate a secret by adding a version yourself.
  - Values are generated inside the module with the operating system's random source; they are never returned,
    logged or recorded in RV(requests).
author:
  - llm.platform maintainers (@llm-platform)
extends_documentation_fragment:
  - llm.platform.gcp
  - ansible.builtin.action_common_attributes
options:
  project:
    description: Project id of the secrets.
    type: str
    required: true
  secrets:
    description: The secrets to seed.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Secret id.
        type: str
        required: true
      length:
        description:
          - Length of the generated value in hex characters (64 = 32 random bytes).
          - 0 seeds an empty first version (an optional value the operator sets later).
        type: int
        default: 64
  labels:
    description: Labels of the secrets this module creates (existing secrets keep theirs).
    type: dict
    default: {managed-by: llm-platform}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
notes:
  - Read access to a secret's metadata and versions needs C(roles/secretmanager.viewer); creating secrets and
    versions needs C(roles/secretmanager.admin) (or C(secretmanager.secrets.create) and C(secretmanager.versions.add)).
seealso:
  - module: llm.platform.gcp_secret_info
"""

EXAMPLES = r"""
- name: The platform's internal secrets (ADC credentials)
  llm.platform.gcp_secret:
    project: my-project
    secrets:
      - name: litellm-master-key
      - name: litellm-salt-key
      - name: grafana-admin-password
        length: 32
"""

RETURN = r"""
created:
  description: Secrets that did not exist and were (or would be, in check mode) created.
  returned: always
  type: list
  elements: str
versions_added:
  description: Secrets that got (or would get) their first version.
  returned: always
  type: list
  elements: str
unchanged:
  description: Secrets that already had an enabled version and were left alone.
  returned: always
  type: list
  elements: str
requests:
  description: Mutating requests sent (method, service, path); bodies of versions are never recorded.
  returned: always
  type: list
  elements: dict
operations:
  description: Always empty (Secret Manager calls are synchronous); kept for a uniform result.
  returned: always
  type: list
  elements: dict
"""

import base64
import secrets

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llm.platform.plugins.module_utils._gcp import GcpError, GcpModule, gcp_argument_spec


def random_hex(length):
    return secrets.token_hex((length + 1) // 2)[:length]


def main():
    spec = gcp_argument_spec()
    spec.update(
        project={"type": "str", "required": True},
        secrets={  # names and lengths only: the values are generated here and never pass in
            "type": "list",
            "elements": "dict",
            "required": True,
            "no_log": False,
            "options": {"name": {"type": "str", "required": True}, "length": {"type": "int", "default": 64}},
        },
        labels={"type": "dict", "default": {"managed-by": "llm-platform"}},
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    for item in module.params["secrets"]:
        if not (item["length"] == 0 or 16 <= item["length"] <= 4096):
            allowed = "0 (an empty first version) or 16 to 4096 hex characters"
            module.fail_json(msg="secrets[%s].length: got %s; allowed: %s" % (item["name"], item["length"], allowed))
    gcp = GcpModule(module)
    client, project = gcp.client, module.params["project"]
    base = "v1/projects/%s/secrets" % project
    created, added, unchanged = [], [], []
    try:
        for item in module.params["secrets"]:
            name = item["name"]
            exists = client.get("secretmanager", "%s/%s" % (base, name)) is not None
            if exists:
                status, _body = client.request("GET", "secretmanager", "%s/%s/versions/latest" % (base, name), allow=(400, 404))
                if status == 200:
                    unchanged.append(name)
                    continue
            else:
                created.append(name)
                if not module.check_mode:
                    body = {"replication": {"automatic": {}}, "labels": module.params["labels"]}
                    client.request("POST", "secretmanager", base, params={"secretId": name}, body=body, allow=(409,))
            added.append(name)
            if not module.check_mode:
                value = random_hex(item["length"]) if item["length"] else ""
                module.no_log_values.add(value)
                payload = {"payload": {"data": base64.b64encode(value.encode()).decode()}}
                client.request("POST", "secretmanager", "%s/%s:addVersion" % (base, name), body=payload, redact=True)
    except GcpError as exc:
        gcp.fail(exc, created=created, versions_added=added, unchanged=unchanged)
    gcp.exit(changed=bool(created or added), created=created, versions_added=added, unchanged=unchanged)


if __name__ == "__main__":
    main()
