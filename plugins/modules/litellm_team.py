#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage a LiteLLM team (one per tenant)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: litellm_team
short_description: Manage LiteLLM teams by a deterministic team id
version_added: "0.1.0"
description:
  - Creates, updates or deletes a team in a LiteLLM proxy through its admin API.
  - The team is identified by O(team_id), which defaults to O(name) (the tenant name), never by
    alias search, because LiteLLM team aliases are not unique (a second C(/team/new) with the same alias
    creates a second team).
  - Only the options you set are compared and sent; an update sends only the fields that differ.
  - Several teams can be managed in one call with O(batch), which is much faster than a loop.
extends_documentation_fragment:
  - llm.platform.litellm
  - llm.platform.litellm.attributes
options:
  name:
    description:
      - Tenant name. Used as the team alias and, unless O(team_id) is set, as the team id.
      - Required unless O(batch) is given.
    type: str
  team_id:
    description:
      - The team id to own. Defaults to O(name).
    type: str
  state:
    description:
      - V(present) creates or updates the team, V(absent) deletes it.
      - Deleting a team makes LiteLLM delete all its keys too; delete keys first (the C(tenants) role does).
    type: str
    choices: [present, absent]
    default: present
  models:
    description:
      - Model names the team may call. Compared as a set.
    type: list
    elements: str
  max_budget:
    description:
      - Team budget in USD per O(budget_duration) window.
    type: float
  budget_duration:
    description:
      - Budget reset window, for example V(30d), V(7d), V(24h).
    type: str
  tpm_limit:
    description:
      - Tokens per minute for the whole team.
    type: int
  rpm_limit:
    description:
      - Requests per minute for the whole team.
    type: int
  metadata:
    description:
      - Metadata; only the keys given are compared, other keys on the server are kept.
      - C(managed_by=llm-platform) is always added; the C(tenants) role uses it to find orphans.
    type: dict
  blocked:
    description:
      - Block all calls of the team.
    type: bool
  batch:
    description:
      - Several teams, each a dictionary of the options above (O(name), O(team_id), O(state), ...).
      - Mutually exclusive with O(name).
    type: list
    elements: dict
    suboptions:
      name:
        description: Tenant name (team alias and default team id).
        type: str
      team_id:
        description: Team id; defaults to O(batch[].name).
        type: str
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      models:
        description: Allowed models.
        type: list
        elements: str
      max_budget:
        description: Budget in USD.
        type: float
      budget_duration:
        description: Budget window.
        type: str
      tpm_limit:
        description: Tokens per minute.
        type: int
      rpm_limit:
        description: Requests per minute.
        type: int
      metadata:
        description: Metadata (compared as a subset).
        type: dict
      blocked:
        description: Block the team.
        type: bool
seealso:
  - module: llm.platform.litellm_key
  - module: llm.platform.litellm_budget
  - module: llm.platform.litellm_info
author:
  - llm.platform maintainers (@llm-platform)
"""

EXAMPLES = r"""
- name: Team for tenant team-a with a monthly budget
  llm.platform.litellm_team:
    api_url: http://127.0.0.1:4000
    api_key: "{{ litellm_master_key }}"
    name: team-a
    models: [qwen-local]
    max_budget: 10.0
    budget_duration: 30d
    rpm_limit: 60
    tpm_limit: 100000
    metadata:
      tenant: team-a

- name: Many teams in one call
  llm.platform.litellm_team:
    api_key: "{{ litellm_master_key }}"
    batch:
      - {name: team-a, models: [qwen-local], max_budget: 10.0, budget_duration: 30d}
      - {name: team-b, models: [qwen-local], max_budget: 5.0, budget_duration: 7d}

- name: Remove a team (delete its keys first)
  llm.platform.litellm_team:
    api_key: "{{ litellm_master_key }}"
    name: team-old
    state: absent
"""

RETURN = r"""
team_id:
  description: The team id managed (single form).
  returned: success, single form
  type: str
  sample: team-a
action:
  description: What was (or in check mode would be) done.
  returned: success, single form
  type: str
  choices: [create, update, delete, none]
  sample: update
existing:
  description: The team as LiteLLM had it before the call (C(team_info)); null when it did not exist.
  returned: success, single form
  type: dict
  sample: {"team_id": "team-a", "max_budget": 10.0, "models": ["qwen-local"]}
end_state:
  description: The team after the call, as read back from LiteLLM (in check mode, as it would be).
  returned: success, single form
  type: dict
  sample: {"team_id": "team-a", "max_budget": 20.0}
objects:
  description: One entry per O(batch) item, with the keys above.
  returned: success, batch form
  type: list
  elements: dict
  sample: [{"team_id": "team-a", "action": "none", "changed": false}]
requests:
  description: Every API call made (method and path, no bodies).
  returned: always
  type: list
  elements: dict
  sample: [{"method": "GET", "path": "/team/info"}]
retried:
  description: How many attempts were retried after 429, 5xx, a connection error or a timeout.
  returned: success
  type: int
  sample: 0
failure:
  description: The failed call (method, path, HTTP status, error type, message, attempts).
  returned: failed
  type: dict
  sample: {"method": "POST", "path": "/team/new", "status": 500, "attempts": 4}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llm.platform.plugins.module_utils._litellm import ensure_team, module_argument_spec, run_module

OBJECT_SPEC = dict(
    name=dict(type="str"),
    team_id=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    models=dict(type="list", elements="str"),
    max_budget=dict(type="float"),
    budget_duration=dict(type="str"),
    tpm_limit=dict(type="int"),
    rpm_limit=dict(type="int"),
    metadata=dict(type="dict"),
    blocked=dict(type="bool"),
)


def prepare(spec):
    if not spec.get("name") and not spec.get("team_id"):
        raise ValueError("each team needs a name (or a team_id)")
    spec["team_id"] = spec.get("team_id") or spec["name"]
    spec["team_alias"] = spec.pop("name", None) or spec["team_id"]
    return spec


def main():
    module = AnsibleModule(
        argument_spec=module_argument_spec(OBJECT_SPEC),
        required_one_of=[("name", "team_id", "batch")],
        mutually_exclusive=[("name", "batch"), ("team_id", "batch")],
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module, ensure_team, OBJECT_SPEC, "team_id", prepare, prefetch="teams", kind="team"))


if __name__ == "__main__":
    main()
