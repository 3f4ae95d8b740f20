#!/usr/bin/python
# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name on the controller;
# this file carries the documentation.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: preflight
short_description: Validate the whole llm.platform configuration before anything runs
version_added: 0.1.0
description:
  - Checks every variable of the config model (C(group_vars/all/) and the inventory's per-cloud
    group) against its declared type and choices, then the cross-field rules a spec cannot
    express (name formats, duplicate names, tenant models that exist, prices and budgets, GPU
    counts against the pools, CIDRs, feature dependencies, backend-specific required fields).
  - Also validates the variables of the selected substrate role and of any listed roles against
    their C(meta/argument_specs.yml).
  - Checks every relation the config model states per cloud (zones in the region, machine types of the
    cloud, CIDRs that contain or must not overlap each other, derived names that collide, budgets and
    floors that contradict each other, placeholders left in, credentials inside URLs); each rule is
    documented in C(docs/config-model.md).
  - Reports all failures together, each variable once, naming the variable path, the bad value and what is
    allowed. A type error hides nothing else and causes no follow-on error. No value of a secret option
    (C(no_log) in a spec, or named like a key, token, password or secret) appears in a message.
  - Runs on the controller only; connects to nothing.
options:
  roles:
    description: Roles of this collection whose argument specs are validated as well.
    type: list
    elements: str
    default: []
  substrate_role:
    description: Validate the argument spec of C(substrate_<substrate>) too.
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
notes:
  - The config model is documented in C(docs/config-model.md), generated from
    C(plugins/plugin_utils/preflight/config_model.yml).
author:
  - llm.platform maintainers (@llm-platform)
"""

EXAMPLES = r"""
- name: Validate the configuration
  llm.platform.preflight:
    roles: [tenants]
"""

RETURN = r"""
validated:
  description: Names of the variables that were checked.
  returned: success
  type: list
  elements: str
roles:
  description: Roles whose argument specs were validated.
  returned: always
  type: list
  elements: str
failed_variables:
  description:
    - Path of each variable with a problem, such as C(tenants[1].budget.window), in the order reported.
    - The problems themselves (variable, value, what is allowed) are printed once, in the task's error.
  returned: failed
  type: list
  elements: str
"""
