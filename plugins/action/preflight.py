# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for llm.platform.preflight: validates the config on the controller."""

from __future__ import annotations

import os

import yaml
from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.llm.platform.plugins.plugin_utils import preflight

ROLES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "roles")


def role_options(role):
    """The main entry point's options of one of this collection's roles."""
    path = os.path.join(ROLES_DIR, role, "meta", "argument_specs.yml")
    if not os.path.exists(path):
        raise AnsibleError("llm.platform.preflight: role %r has no meta/argument_specs.yml" % role)
    with open(path, encoding="utf-8") as handle:
        specs = yaml.safe_load(handle) or {}
    return ((specs.get("argument_specs") or {}).get("main") or {}).get("options") or {}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("roles", "substrate_role"))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        roles = list(self._task.args.get("roles") or [])
        cfg, failures = {}, []
        names = set(preflight.load_spec())
        if self._task.args.get("substrate_role", True):
            substrate = self._value(task_vars, "substrate", failures)
            if substrate in ("gke", "hetzner", "byo", "lab"):
                roles.append("substrate_" + substrate)
        extra = {role: role_options(role) for role in roles}
        for options in extra.values():
            names.update(options)
        for name in sorted(names):
            if name in task_vars:
                cfg[name] = self._value(task_vars, name, failures)
        failures.extend(preflight.validate(cfg, extra))
        result["changed"] = False
        result["validated"] = sorted(cfg)
        result["roles"] = roles
        if failures:
            result["failed"] = True
            result["failures"] = [f.as_dict() for f in failures]
            result["msg"] = "Configuration invalid, %d problem(s); nothing was changed:\n%s" % (
                len(failures),
                "\n".join("  - %s" % f for f in failures),
            )
        else:
            result["msg"] = "Configuration valid (%d variables checked)" % len(cfg)
        return result

    def _value(self, task_vars, name, failures):
        try:
            return self._templar.template(task_vars.get(name))
        except AnsibleError as exc:
            failures.append(preflight.Failure(name, "<template error>", "a value that templates: %s" % exc.message))
            return None
