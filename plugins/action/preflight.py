# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for llm.platform.preflight: validates the config on the controller."""

from __future__ import annotations

import copy
import functools
import glob
import os

import yaml
from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.llm.platform.plugins.plugin_utils import preflight
from ansible_collections.llm.platform.plugins.plugin_utils.preflight.redact import is_secret_name

try:  # ansible-core 2.19: the error line can carry the problems while msg stays short
    from ansible.module_utils._internal import _messages
except ImportError:  # pragma: no cover - other cores print the list in msg (twice)
    _messages = None

ROLES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "roles")
# Host variables rules may read (hetzner.gpu_workers_ssh); nothing else of hostvars is used.
HOST_VARS = ("ansible_host", "ansible_user", "ansible_ssh_private_key_file", "ansible_private_key_file")


def role_options(role):
    """The main entry point's options of one of this collection's roles."""
    return copy.deepcopy(_role_options(role))


@functools.cache
def _role_options(role):
    path = os.path.join(ROLES_DIR, role, "meta", "argument_specs.yml")
    if not os.path.exists(path):
        raise AnsibleError("llm.platform.preflight: role %r has no meta/argument_specs.yml" % role)
    with open(path, encoding="utf-8") as handle:
        specs = yaml.safe_load(handle) or {}
    return ((specs.get("argument_specs") or {}).get("main") or {}).get("options") or {}


def all_role_names():
    return sorted(
        os.path.basename(os.path.dirname(os.path.dirname(p))) for p in glob.glob(os.path.join(ROLES_DIR, "*", "meta", "argument_specs.yml"))
    )


def ssh_identities():
    """True when the controller has something to log in with: an agent or a default key."""
    if os.environ.get("SSH_AUTH_SOCK"):
        return True
    home = os.path.expanduser("~/.ssh")
    return any(os.path.exists(os.path.join(home, name)) for name in ("id_ed25519", "id_ecdsa", "id_rsa"))


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
            if substrate in preflight.SUBSTRATES:
                roles.append("substrate_" + substrate)
        extra = {role: role_options(role) for role in roles}
        for options in extra.values():
            names.update(options)
        for name in sorted(names):
            if name in task_vars:
                cfg[name] = self._value(task_vars, name, failures)
        # Variables of the other roles are not type-checked here (their roles validate them),
        # but rules about secrets, URLs and placeholders look at every one the inventory sets.
        for role in all_role_names():
            for name in role_options(role):
                if name in task_vars and name not in cfg:
                    value = self._value(task_vars, name, None)
                    if value is not None:
                        cfg[name] = value
        failures.extend(preflight.validate(cfg, extra, self._context(task_vars)))
        result["changed"] = False
        result["roles"] = roles
        if failures:
            problems = "Configuration invalid, %d problem(s); nothing was changed:\n%s" % (
                len(failures),
                "\n".join("  - %s" % f for f in failures),
            )
            result["failed"] = True
            result["failed_variables"] = [f.path for f in failures]
            if _messages is not None:
                # Printed once: the error line shows the problems, the result only the summary.
                result["msg"] = "Configuration invalid, %d problem(s), listed above; nothing was changed" % len(failures)
                result["exception"] = _messages.ErrorSummary(event=_messages.Event(msg=problems))
            else:
                result["msg"] = problems
        else:
            result["validated"] = sorted(cfg)
            result["msg"] = "Configuration valid (%d variables checked)" % len(cfg)
        return result

    def _context(self, task_vars):
        hostvars = task_vars.get("hostvars") or {}
        hosts = {}
        for group in ("gpu_workers",):
            for host in (task_vars.get("groups") or {}).get(group) or []:
                values = hostvars.get(host) or {}
                hosts.setdefault(group, {})[host] = {k: self._templar.template(values[k]) for k in HOST_VARS if k in values}
        return {"hosts": hosts, "exists": os.path.exists, "ssh_identities": ssh_identities()}

    def _value(self, task_vars, name, failures):
        try:
            return self._templar.template(task_vars.get(name))
        except AnsibleError as exc:
            if failures is not None:
                # A secret option's template may show its value in the error: say only that it failed.
                detail = "(detail hidden: a secret option)" if is_secret_name(name) else exc.message
                failures.append(preflight.Failure(name, "<template error>", "a value that templates: %s" % detail, "schema.type"))
            return None
