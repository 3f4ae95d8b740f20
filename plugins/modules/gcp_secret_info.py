#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the latest version of Secret Manager secrets."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gcp_secret_info
short_description: Read the latest value of Secret Manager secrets (register it with no_log)
version_added: 0.1.0
description:
  - Reads each of O(names) with C(GET v1/projects/{project}/secrets/{name}/versions/latest:access) and returns the
    decoded values in RV(values).
  - The result carries secret values. Register it only on a task with C(no_log) set to true and pass the values straight
    to the module that needs them.
  - Fails naming the secret when it does not exist or has no enabled version.
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
  names:
    description: Secret ids to read.
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    support: full
    details: Read-only; it runs in check mode too.
  diff_mode:
    support: N/A
  platform:
    platforms: all
notes:
  - Needs C(roles/secretmanager.secretAccessor) on the secrets.
seealso:
  - module: llm.platform.gcp_secret
"""

EXAMPLES = r"""
- name: The LiteLLM master key, straight from Secret Manager
  llm.platform.gcp_secret_info:
    project: my-project
    names: [litellm-master-key]
  register: master
  no_log: true
"""

RETURN = r"""
values:
  description: Secret id to its latest value (UTF-8 text).
  returned: success
  type: dict
"""

import base64

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llm.platform.plugins.module_utils._gcp import GcpError, GcpModule, gcp_argument_spec


def main():
    spec = gcp_argument_spec()
    spec.update(project={"type": "str", "required": True}, names={"type": "list", "elements": "str", "required": True})
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    gcp = GcpModule(module)
    client, project = gcp.client, module.params["project"]
    values = {}
    try:
        for name in module.params["names"]:
            path = "v1/projects/%s/secrets/%s/versions/latest:access" % (project, name)
            status, payload = client.request("GET", "secretmanager", path, allow=(400, 404))
            if status != 200:
                module.fail_json(
                    msg="secret %s of project %s has no readable version (HTTP %s); seed it with playbooks/secrets.yml"
                    % (name, project, status)
                )
            data = (payload.get("payload") or {}).get("data") or ""
            values[name] = base64.b64decode(data).decode("utf-8")
    except GcpError as exc:
        gcp.fail(exc)
    module.exit_json(changed=False, values=values)


if __name__ == "__main__":
    main()
