#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage models stored in LiteLLM's database."""

from __future__ import annotations

DOCUMENTATION = r"""
module: litellm_model
short_description: Manage models registered in LiteLLM's database, with prices
version_added: "0.1.0"
description:
  - Registers, updates or removes a model deployment in LiteLLM's database (C(store_model_in_db)),
    identified by a deterministic O(model_id).
  - O(model_name) and O(model_info) (prices, limits) are compared and updated in place.
  - O(litellm_params) are write-only, because LiteLLM stores them encrypted and hides secrets in
    its answers; they are sent on create, and on update only with O(update_params=true).
  - Models from the proxy's config file cannot be changed through the API.
extends_documentation_fragment:
  - llm.platform.litellm
  - llm.platform.litellm.attributes
options:
  model_id:
    description:
      - Deterministic id of the deployment (C(model_info.id)). Required unless O(batch) is given.
    type: str
  model_name:
    description:
      - The public model name tenants call. Required with O(state=present).
    type: str
  state:
    description: V(present) or V(absent).
    type: str
    choices: [present, absent]
    default: present
  litellm_params:
    description:
      - Routing parameters, for example C(model), C(api_base), C(api_key). Write-only.
    type: dict
  input_cost_per_token:
    description:
      - USD per prompt token. Prices are needed for budgets to bind.
      - Sent inside C(litellm_params) (LiteLLM 1.108.7 drops prices given in C(model_info)) and compared
        with what C(/model/info) reports.
    type: float
  output_cost_per_token:
    description: USD per completion token (see O(input_cost_per_token)).
    type: float
  model_info:
    description:
      - Extra model info (metadata), compared as a subset. C(managed_by=llm-platform) is always added.
    type: dict
  update_params:
    description:
      - Send O(litellm_params) on every run even when the model exists (they cannot be compared).
    type: bool
    default: false
  batch:
    description: Several models, each a dictionary of the options above.
    type: list
    elements: dict
    suboptions:
      model_id:
        description: Deployment id.
        type: str
      model_name:
        description: Public name.
        type: str
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      litellm_params:
        description: Write-only routing parameters.
        type: dict
      input_cost_per_token:
        description: USD per prompt token.
        type: float
      output_cost_per_token:
        description: USD per completion token.
        type: float
      model_info:
        description: Model info.
        type: dict
      update_params:
        description: Always send litellm_params.
        type: bool
        default: false
notes:
  - O(litellm_params) is not diffed (write-only); the diff shows C((write-only)) when it is sent.
seealso:
  - module: llm.platform.litellm_info
author:
  - llm.platform maintainers (@llm-platform)
"""

EXAMPLES = r"""
- name: Register qwen-local with prices
  llm.platform.litellm_model:
    api_url: http://127.0.0.1:4000
    api_key: "{{ litellm_master_key }}"
    model_id: qwen-local
    model_name: qwen-local
    litellm_params:
      model: openai/qwen2.5-0.5b-instruct
      api_base: http://qwen-local.models.svc:8000/v1
    input_cost_per_token: 0.0000005
    output_cost_per_token: 0.0000015
"""

RETURN = r"""
model_id:
  description: The deployment id managed.
  returned: success, single form
  type: str
  sample: qwen-local
action:
  description: What was (or would be) done.
  returned: success, single form
  type: str
  choices: [create, update, delete, none]
  sample: create
existing:
  description: The model as C(/model/info) showed it before the call (secrets hidden by LiteLLM).
  returned: success, single form
  type: dict
  sample: {"model_name": "qwen-local", "model_info": {"id": "qwen-local"}}
objects:
  description: One entry per O(batch) item.
  returned: success, batch form
  type: list
  elements: dict
  sample: [{"model_id": "qwen-local", "action": "none", "changed": false}]
requests:
  description: Every API call made.
  returned: always
  type: list
  elements: dict
  sample: [{"method": "GET", "path": "/model/info"}]
retried:
  description: Retried attempts.
  returned: success
  type: int
  sample: 0
failure:
  description: The failed call.
  returned: failed
  type: dict
  sample: {"method": "POST", "path": "/model/new", "status": 500}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llm.platform.plugins.module_utils._litellm import ensure_model, module_argument_spec, run_module

OBJECT_SPEC = dict(
    model_id=dict(type="str"),
    model_name=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    litellm_params=dict(type="dict", no_log=False),
    input_cost_per_token=dict(type="float", no_log=False),
    output_cost_per_token=dict(type="float", no_log=False),
    model_info=dict(type="dict"),
    update_params=dict(type="bool", default=False),
)


def prepare(spec):
    # A missing model_id is reported by run_module, first.
    if spec.get("model_id") and spec["state"] == "present" and not spec.get("model_name"):
        raise ValueError("model %s: model_name is required with state=present" % spec["model_id"])
    return spec


def main():
    module = AnsibleModule(
        argument_spec=module_argument_spec(OBJECT_SPEC),
        required_one_of=[("model_id", "batch")],
        mutually_exclusive=[("model_id", "batch")],
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module, ensure_model, OBJECT_SPEC, "model_id", prepare, kind="model"))


if __name__ == "__main__":
    main()
