#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage LiteLLM virtual keys by alias."""

from __future__ import annotations

DOCUMENTATION = r"""
module: litellm_key
short_description: Manage LiteLLM virtual keys by key alias, with rotation
version_added: "0.1.0"
description:
  - Creates, updates, rotates or deletes a LiteLLM virtual key, identified by O(key_alias)
    (unique in LiteLLM).
  - The raw key (C(sk-...)) exists only in LiteLLM's create answer. The module returns it as RV(key)
    only when it creates or rotates the key; run the task with C(no_log) and write RV(key) straight
    into a Kubernetes Secret (the C(tenants) role does). It is never returned otherwise.
  - Updates go through C(/key/update) and send only the fields that differ; a key is never
    re-created to change its attributes.
  - Rotation (O(rotate), or a consumer that does not hold the current key, see O(consumer_fingerprint))
    renames the current key to C(<alias>--rotated-<epoch>) with C(metadata.delete_after), creates a
    new key under O(key_alias), and deletes rotated keys whose grace period has passed on later runs.
    LiteLLM's own regenerate endpoint is an Enterprise feature and is not used.
extends_documentation_fragment:
  - llm.platform.litellm
  - llm.platform.litellm.attributes
options:
  key_alias:
    description:
      - Alias of the key (unique across LiteLLM). Required unless O(batch) is given.
    type: str
  state:
    description:
      - V(present) creates or updates the key, V(absent) deletes it and its rotated predecessors.
    type: str
    choices: [present, absent]
    default: present
  team_id:
    description:
      - Team the key belongs to. When set, the key and its rotated predecessors are found with one
        team listing.
    type: str
  models:
    description: Models the key may call (a subset of the team's). Compared as a set.
    type: list
    elements: str
  max_budget:
    description: Key budget in USD per O(budget_duration).
    type: float
  budget_duration:
    description: Key budget window, for example V(30d).
    type: str
  tpm_limit:
    description: Tokens per minute for this key.
    type: int
  rpm_limit:
    description: Requests per minute for this key.
    type: int
  max_parallel_requests:
    description: Concurrent requests for this key.
    type: int
  metadata:
    description:
      - Metadata; only the keys given are compared. C(managed_by=llm-platform) is always added.
    type: dict
  duration:
    description:
      - Lifetime of a new key, for example V(90d) (expiry). Applied only when a key is created or rotated
        (LiteLLM stores the resulting C(expires) time, not the duration).
    type: str
  rotate:
    description:
      - Replace the key with a new one now (see the description).
    type: bool
    default: false
  consumer_fingerprint:
    description:
      - Fingerprint (RV(fingerprint)) of the key the consumer holds, for example read from the tenant's
        Secret. When set and different from the current key's (V('') for a consumer that holds none),
        the key is rotated so that the consumer gets one it can use.
    type: str
  grace_seconds:
    description:
      - How long a rotated key keeps working before a later run deletes it.
    type: int
    default: 3600
  cleanup_rotated:
    description:
      - Delete rotated keys past their grace period (needs O(team_id)).
    type: bool
    default: true
  batch:
    description:
      - Several keys, each a dictionary of the options above. Mutually exclusive with O(key_alias).
    type: list
    elements: dict
    suboptions:
      key_alias:
        description: Alias.
        type: str
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      team_id:
        description: Team id.
        type: str
      models:
        description: Allowed models.
        type: list
        elements: str
      max_budget:
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
      metadata:
        description: Metadata.
        type: dict
      duration:
        description: Lifetime of a new key.
        type: str
      rotate:
        description: Rotate now.
        type: bool
        default: false
      consumer_fingerprint:
        description: Fingerprint the consumer holds.
        type: str
      grace_seconds:
        description: Grace period of the old key.
        type: int
        default: 3600
      cleanup_rotated:
        description: Delete expired rotated keys.
        type: bool
        default: true
notes:
  - O(duration) is write-only; LiteLLM fills in C(expires).
  - A key whose create answer was lost (a retried C(/key/generate)) is deleted and created again,
    since nobody can hold its raw value.
seealso:
  - module: llm.platform.litellm_team
  - module: llm.platform.litellm_info
author:
  - llm.platform maintainers (@llm-platform)
"""

EXAMPLES = r"""
- name: Default key of tenant team-a
  llm.platform.litellm_key:
    api_url: http://127.0.0.1:4000
    api_key: "{{ litellm_master_key }}"
    key_alias: team-a-default
    team_id: team-a
    models: [qwen-local]
    max_budget: 5.0
    budget_duration: 30d
  register: team_a_key
  no_log: true

- name: Hand a newly created key to the tenant as a Secret
  kubernetes.core.k8s:
    state: present
    definition:
      apiVersion: v1
      kind: Secret
      metadata:
        name: litellm-key-default
        namespace: team-a
      stringData:
        api-key: "{{ team_a_key.key }}"
  when: team_a_key.key is defined and team_a_key.key
  no_log: true

- name: Rotate it (the old key keeps working for an hour)
  llm.platform.litellm_key:
    api_key: "{{ litellm_master_key }}"
    key_alias: team-a-default
    team_id: team-a
    rotate: true
    grace_seconds: 3600
  no_log: true
"""

RETURN = r"""
key:
  description:
    - The raw virtual key. Only when the key was created or rotated by this call, never in check mode.
    - Secret. Register the result with C(no_log) and write it to a Secret; do not print it.
  returned: when created or rotated
  type: str
  sample: sk-...
fingerprint:
  description: sha256 of LiteLLM's hashed token, truncated; identifies the key without revealing it.
  returned: success, when the key exists
  type: str
  sample: 3f0a9c1e5b7d2a4c6e8f0a1b2c3d4e5f
key_alias:
  description: The alias managed.
  returned: success, single form
  type: str
  sample: team-a-default
action:
  description: What was (or would be) done.
  returned: success, single form
  type: str
  choices: [create, update, rotate, delete, none]
  sample: none
reason:
  description: Why a key was rotated.
  returned: when rotated
  type: str
  sample: rotate
existing:
  description: The key before the call, without secrets (no raw key, no hashed token).
  returned: success, single form
  type: dict
  sample: {"key_alias": "team-a-default", "key_name": "sk-...AbCd", "team_id": "team-a"}
end_state:
  description: The key after the call, without secrets.
  returned: success, single form
  type: dict
  sample: {"key_alias": "team-a-default", "max_budget": 5.0}
deleted_rotated:
  description: Rotated keys deleted by this call (grace period over).
  returned: success
  type: list
  elements: str
  sample: ["team-a-default--rotated-1764300000"]
pending_rotated:
  description: Rotated keys still in their grace period.
  returned: success
  type: list
  elements: str
  sample: []
objects:
  description:
    - One entry per O(batch) item, with the keys above (including RV(key) for new keys).
    - Not called C(results) on purpose, because Ansible keeps a C(results) list visible even in
      C(no_log) output (it takes it for loop results), which would print new raw keys.
  returned: success, batch form
  type: list
  elements: dict
  sample: [{"key_alias": "team-a-default", "action": "none", "changed": false}]
requests:
  description: Every API call made (method and path, no bodies).
  returned: always
  type: list
  elements: dict
  sample: [{"method": "GET", "path": "/key/list"}]
retried:
  description: Retried attempts.
  returned: success
  type: int
  sample: 0
failure:
  description: The failed call.
  returned: failed
  type: dict
  sample: {"method": "POST", "path": "/key/generate", "status": 500}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llm.platform.plugins.module_utils._litellm import ensure_key, module_argument_spec, run_module

OBJECT_SPEC = dict(
    key_alias=dict(type="str", no_log=False),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    team_id=dict(type="str"),
    models=dict(type="list", elements="str"),
    max_budget=dict(type="float"),
    budget_duration=dict(type="str"),
    tpm_limit=dict(type="int"),
    rpm_limit=dict(type="int"),
    max_parallel_requests=dict(type="int"),
    metadata=dict(type="dict"),
    duration=dict(type="str"),
    rotate=dict(type="bool", default=False),
    consumer_fingerprint=dict(type="str", no_log=False),
    grace_seconds=dict(type="int", default=3600),
    cleanup_rotated=dict(type="bool", default=True),
)


def main():
    module = AnsibleModule(
        argument_spec=module_argument_spec(OBJECT_SPEC),
        required_one_of=[("key_alias", "batch")],
        mutually_exclusive=[("key_alias", "batch")],
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module, ensure_key, OBJECT_SPEC, "key_alias", prefetch="keys", kind="key"))


if __name__ == "__main__":
    main()
