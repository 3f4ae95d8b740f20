#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read LiteLLM teams, keys (without secrets), budgets and spend."""

from __future__ import annotations

DOCUMENTATION = r"""
module: litellm_info
short_description: Read LiteLLM teams, keys, budgets, models and spend
version_added: "0.1.0"
description:
  - Read-only facts from a LiteLLM proxy's admin API.
  - Keys are returned without secrets, with neither the raw key nor LiteLLM's hashed token; each key
    has a C(fingerprint) instead.
extends_documentation_fragment:
  - llm.platform.litellm
options:
  gather:
    description: What to read.
    type: list
    elements: str
    choices: [teams, keys, budgets, models, spend]
    default: [teams, keys, spend]
  managed_only:
    description: Only teams and keys carrying C(metadata.managed_by=llm-platform).
    type: bool
    default: false
  team_id:
    description: Only this team and its keys.
    type: str
attributes:
  check_mode:
    support: full
    description: The module never changes anything.
  diff_mode:
    support: none
    description: Nothing to diff.
seealso:
  - module: llm.platform.litellm_team
  - module: llm.platform.litellm_key
author:
  - llm.platform maintainers (@llm-platform)
"""

EXAMPLES = r"""
- name: Teams and keys this collection manages
  llm.platform.litellm_info:
    api_url: http://127.0.0.1:4000
    api_key: "{{ litellm_master_key }}"
    gather: [teams, keys]
    managed_only: true
  register: litellm

- name: Spend per team
  ansible.builtin.debug:
    msg: "{{ litellm.teams | items2dict(key_name='team_id', value_name='spend') }}"
"""

RETURN = r"""
teams:
  description: Teams (C(team_id), C(team_alias), C(models), C(max_budget), C(budget_duration), limits, C(spend), C(metadata)).
  returned: when teams is gathered
  type: list
  elements: dict
  sample: [{"team_id": "team-a", "spend": 0.15, "max_budget": 10.0}]
keys:
  description: Keys without secrets (alias, masked C(key_name), team, limits, C(spend), C(expires), C(fingerprint)).
  returned: when keys is gathered
  type: list
  elements: dict
  sample: [{"key_alias": "team-a-default", "key_name": "sk-...AbCd", "team_id": "team-a", "spend": 0.1}]
budgets:
  description: Rows of the budget table.
  returned: when budgets is gathered
  type: list
  elements: dict
  sample: [{"budget_id": "team-a", "max_budget": 10.0}]
models:
  description: Models (name, id, whether stored in the DB, prices); C(litellm_params) left out.
  returned: when models is gathered
  type: list
  elements: dict
  sample: [{"model_name": "qwen-local", "model_id": "qwen-local", "db_model": true}]
spend:
  description: Total spend of the proxy (C(/global/spend)).
  returned: when spend is gathered
  type: dict
  sample: {"spend": 0.15, "max_budget": 0}
retried:
  description: How many attempts were retried after 429, 5xx, a connection error or a timeout.
  returned: success
  type: int
  sample: 0
requests:
  description: Every API call made.
  returned: always
  type: list
  elements: dict
  sample: [{"method": "GET", "path": "/v2/team/list"}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llm.platform.plugins.module_utils._litellm import (
    MANAGED_BY,
    LiteLLMClient,
    LiteLLMError,
    litellm_argument_spec,
    public_key,
)

TEAM_KEYS = (
    "team_id",
    "team_alias",
    "models",
    "max_budget",
    "budget_duration",
    "budget_reset_at",
    "tpm_limit",
    "rpm_limit",
    "spend",
    "metadata",
    "blocked",
)


def _managed(obj):
    return ((obj or {}).get("metadata") or {}).get("managed_by") == MANAGED_BY


def gather(client, what, managed_only=False, team_id=None):
    out = {}
    if "teams" in what:
        if team_id:
            team = client.team_get(team_id)
            teams = [team] if team else []
        else:
            teams = client.teams_list()
        out["teams"] = [{k: t.get(k) for k in TEAM_KEYS} for t in teams if not managed_only or _managed(t)]
    if "keys" in what:
        keys = [k for k in client.keys_list(team_id=team_id) if isinstance(k, dict)]
        out["keys"] = [public_key(k) for k in keys if not managed_only or _managed(k)]
    if "budgets" in what:
        out["budgets"] = client.get("/budget/list") or []
    if "models" in what:
        data = client.get("/model/info") or {}
        out["models"] = [
            {
                "model_name": m.get("model_name"),
                "model_id": (m.get("model_info") or {}).get("id"),
                "db_model": (m.get("model_info") or {}).get("db_model"),
                "input_cost_per_token": (m.get("model_info") or {}).get("input_cost_per_token"),
                "output_cost_per_token": (m.get("model_info") or {}).get("output_cost_per_token"),
            }
            for m in data.get("data") or []
        ]
    if "spend" in what:
        out["spend"] = client.get("/global/spend") or {}
    return out


def main():
    spec = litellm_argument_spec()
    spec.update(
        gather=dict(
            type="list", elements="str", choices=["teams", "keys", "budgets", "models", "spend"], default=["teams", "keys", "spend"]
        ),
        managed_only=dict(type="bool", default=False),
        team_id=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    client = LiteLLMClient.from_module(module)
    p = module.params
    try:
        facts = gather(client, p["gather"], p["managed_only"], p["team_id"])
    except LiteLLMError as e:
        module.fail_json(msg=e.describe(), failure=e.as_dict(), requests=client.requests)
    module.exit_json(changed=False, requests=client.requests, retried=client.retried, **facts)


if __name__ == "__main__":
    main()
