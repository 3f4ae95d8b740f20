#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage reusable LiteLLM budgets."""

from __future__ import annotations

DOCUMENTATION = r"""
module: litellm_budget
short_description: Manage reusable LiteLLM budgets by budget id
version_added: "0.1.0"
description:
  - Creates, updates or deletes a row of LiteLLM's budget table (C(/budget/new), C(/budget/update),
    C(/budget/delete)), identified by a deterministic O(budget_id) such as the tenant name.
  - Budgets are reusable limits (customers/end users, team members) that LiteLLM links by id.
  - LiteLLM answers C(null) to an update or delete of a missing budget; the module treats that as absent.
extends_documentation_fragment:
  - llm.platform.litellm
  - llm.platform.litellm.attributes
options:
  budget_id:
    description:
      - The budget id to own. Required unless O(batch) is given.
    type: str
  state:
    description:
      - V(present) creates or updates the budget, V(absent) deletes it.
      - LiteLLM deletes a budget even when customers use it (their C(budget_id) becomes null).
    type: str
    choices: [present, absent]
    default: present
  max_budget:
    description: Maximum spend in USD per O(budget_duration).
    type: float
  soft_budget:
    description: Spend in USD at which LiteLLM alerts.
    type: float
  budget_duration:
    description: Reset window, for example V(30d).
    type: str
  tpm_limit:
    description: Tokens per minute.
    type: int
  rpm_limit:
    description: Requests per minute.
    type: int
  max_parallel_requests:
    description: Concurrent requests.
    type: int
  batch:
    description:
      - Several budgets, each a dictionary of the options above. Mutually exclusive with O(budget_id).
    type: list
    elements: dict
    suboptions:
      budget_id:
        description: Budget id.
        type: str
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      max_budget:
        description: USD.
        type: float
      soft_budget:
        description: USD.
        type: float
      budget_duration:
        description: Window.
        type: str
      tpm_limit:
        description: Tokens per minute.
        type: int
      rpm_limit:
        description: Requests per minute.
        type: int
      max_parallel_requests:
        description: Concurrent requests.
        type: int
seealso:
  - module: llm.platform.litellm_team
author:
  - llm.platform maintainers (@llm-platform)
"""

EXAMPLES = r"""
- name: Tenant budget
  llm.platform.litellm_budget:
    api_url: http://127.0.0.1:4000
    api_key: "{{ litellm_master_key }}"
    budget_id: team-a
    max_budget: 10.0
    budget_duration: 30d
    rpm_limit: 60

- name: Remove it
  llm.platform.litellm_budget:
    api_key: "{{ litellm_master_key }}"
    budget_id: team-a
    state: absent
"""

RETURN = r"""
budget_id:
  description: The budget id managed (single form).
  returned: success, single form
  type: str
  sample: team-a
action:
  description: What was (or would be) done.
  returned: success, single form
  type: str
  choices: [create, update, delete, none]
  sample: create
existing:
  description: The budget before the call; null when absent.
  returned: success, single form
  type: dict
  sample: {"budget_id": "team-a", "max_budget": 10.0}
end_state:
  description: The budget after the call.
  returned: success, single form
  type: dict
  sample: {"budget_id": "team-a", "max_budget": 20.0}
objects:
  description: One entry per O(batch) item.
  returned: success, batch form
  type: list
  elements: dict
  sample: [{"budget_id": "team-a", "action": "none", "changed": false}]
requests:
  description: Every API call made (method and path).
  returned: always
  type: list
  elements: dict
  sample: [{"method": "POST", "path": "/budget/info"}]
retried:
  description: Retried attempts.
  returned: success
  type: int
  sample: 0
failure:
  description: The failed call.
  returned: failed
  type: dict
  sample: {"method": "POST", "path": "/budget/new", "status": 500}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llm.platform.plugins.module_utils._litellm import ensure_budget, module_argument_spec, run_module

OBJECT_SPEC = dict(
    budget_id=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    max_budget=dict(type="float"),
    soft_budget=dict(type="float"),
    budget_duration=dict(type="str"),
    tpm_limit=dict(type="int"),
    rpm_limit=dict(type="int"),
    max_parallel_requests=dict(type="int"),
)


def main():
    module = AnsibleModule(
        argument_spec=module_argument_spec(OBJECT_SPEC),
        required_one_of=[("budget_id", "batch")],
        mutually_exclusive=[("budget_id", "batch")],
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module, ensure_budget, OBJECT_SPEC, "budget_id", prefetch="budgets", kind="budget"))


if __name__ == "__main__":
    main()
