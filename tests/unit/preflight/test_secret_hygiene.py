"""Static secret hygiene of every task file and playbook: what -vvv would print.

At -vvv Ansible prints every task's arguments and result unless the task is no_log, and the
command line it runs, environment included (EXEC ... VAR=value python ...). So:

- no secret goes into a task's ``environment:`` or a command's argv (pass it by stdin or a file);
- every task whose arguments or result carry a secret is ``no_log``: uri calls with headers,
  tasks writing, reading or deleting Secrets, tasks that use a secret variable in their arguments
  (except in module options the module itself declares no_log).

The -vvv sweep (tests/integration/sweep) proves the same on the lab, at run time."""

from __future__ import annotations

import glob
import os
import re

import pytest
import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FILES = sorted(
    glob.glob(os.path.join(REPO_ROOT, "roles", "*", "tasks", "*.yml")) + glob.glob(os.path.join(REPO_ROOT, "playbooks", "*.yml"))
)
# Variables that hold a secret: named like one, or registered results that carry key values.
SECRET_VAR = re.compile(
    r"(?<!builtin\.)\b(?:__)?[a-z0-9_]*(?:master_key|api_key|(?<!per)_token|password|private_key|secret_key|salt_key|sa_key_file)\b"
    r"|\b__(?:tenants_key_results|platform_serving_key|bench_key|bench_key_http|tenants_secrets|secrets_existing)\b"
)
# Not credentials, with the reason.
NOT_SECRET = {
    "__substrate_lab_token": "a random lock-owner id for lab_ctl.py lock/unlock, not a credential",
    "secrets_gcp_sa_key_file": "a path to the key file (its content is read inside a no_log task)",
}
# Tasks that read a secret variable but print nothing of it, with the reason.
READS_ONLY = {
    (
        "roles/tenants/tasks/read.yml",
        "Tenants | compute fingerprints held and orphans",
    ): "keeps only the Secrets' annotations (alias, fingerprint) and names, never their data",
}
# Module options the modules declare no_log themselves (their value is masked in -vvv output).
NO_LOG_OPTIONS = {
    "llm.platform.litellm_key": {"api_key"},
    "llm.platform.litellm_team": {"api_key"},
    "llm.platform.litellm_budget": {"api_key"},
    "llm.platform.litellm_info": {"api_key"},
    "llm.platform.litellm_model": {"api_key"},
}
HCLOUD = re.compile(r"^hetzner\.hcloud\.")
TASK_KEYS = {
    "name",
    "when",
    "loop",
    "loop_control",
    "register",
    "no_log",
    "tags",
    "vars",
    "changed_when",
    "failed_when",
    "until",
    "retries",
    "delay",
    "check_mode",
    "environment",
    "become",
    "delegate_to",
    "run_once",
    "ignore_errors",
    "notify",
    "timeout",
    "block",
    "rescue",
    "always",
    "module_defaults",
    "args",
    "diff",
    "any_errors_fatal",
    "listen",
    "throttle",
}


def tasks_of(items, inherited_no_log=False):
    """Every task of a task list (blocks flattened), with whether a surrounding block is no_log."""
    for item in items or []:
        if not isinstance(item, dict):
            continue
        no_log = inherited_no_log or _no_log(item)
        if any(k in item for k in ("block", "rescue", "always")):
            for key in ("block", "rescue", "always"):
                yield from tasks_of(item.get(key), no_log)
        else:
            yield item, no_log


def _no_log(task):
    value = task.get("no_log", False)
    return value is True or (isinstance(value, str) and "{{" in value)


def module_of(task):
    names = [k for k in task if k not in TASK_KEYS]
    return names[0] if names else None


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def _expressions(value):
    """The Jinja expressions inside ``value`` (plain text in a message is not a reference)."""
    if isinstance(value, dict):
        return [e for v in value.values() for e in _expressions(v)]
    if isinstance(value, list):
        return [e for v in value for e in _expressions(v)]
    return _JINJA.findall(value) if isinstance(value, str) else []


def secret_refs(value):
    found = {m.group(0) for expr in _expressions(value) for m in SECRET_VAR.finditer(expr)}
    return sorted(found - set(NOT_SECRET))


def load(path):
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or []
    if path.startswith(os.path.join(REPO_ROOT, "playbooks")):
        tasks = []
        for play in data:
            if isinstance(play, dict):
                for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                    tasks += play.get(key) or []
        return tasks
    return data


ALL_TASKS = [(os.path.relpath(path, REPO_ROOT), task, no_log) for path in FILES for task, no_log in tasks_of(load(path))]


def _id(entry):
    return "%s: %s" % (entry[0], entry[1].get("name", "?"))


def touches_secrets(module, args):
    """A Kubernetes task whose objects (or the kinds it lists/deletes) include Secrets."""
    text = yaml.safe_dump(args, default_flow_style=True, width=10**6)
    kube = module and (module.startswith("kubernetes.core.k8s") or module == "llm.platform.k8s_apply")
    return bool(kube and re.search(r"\bkind'?:\s*'?Secret\b|'kind': 'Secret'", text))


def test_the_files_are_found():
    assert len(FILES) > 20 and len(ALL_TASKS) > 150


@pytest.mark.parametrize("entry", [e for e in ALL_TASKS if "environment" in e[1]], ids=_id)
def test_no_secret_in_a_task_environment(entry):
    _, task, _ = entry
    assert secret_refs(task["environment"]) == [], "pass the secret by stdin or a 0600 file: -vvv prints the environment"


@pytest.mark.parametrize(
    "entry", [e for e in ALL_TASKS if module_of(e[1]) in ("ansible.builtin.command", "ansible.builtin.shell")], ids=_id
)
def test_no_secret_on_a_command_line(entry):
    _, task, _ = entry
    args = task[module_of(task)]
    argv = {k: v for k, v in args.items() if k != "stdin"} if isinstance(args, dict) else args
    assert secret_refs(argv) == [], "argv is printed at -vvv and visible in ps: pass the secret by stdin"


@pytest.mark.parametrize(
    "entry",
    [e for e in ALL_TASKS if module_of(e[1]) == "ansible.builtin.uri" and "headers" in (e[1]["ansible.builtin.uri"] or {})],
    ids=_id,
)
def test_uri_with_headers_is_no_log(entry):
    _, task, no_log = entry
    assert no_log or _no_log(task), "headers (Authorization, tokens) are printed at -vvv"


@pytest.mark.parametrize(
    "entry", [e for e in ALL_TASKS if touches_secrets(module_of(e[1]), [e[1].get(module_of(e[1])), e[1].get("loop")])], ids=_id
)
def test_a_task_on_secrets_is_no_log(entry):
    _, task, no_log = entry
    assert no_log or _no_log(task), "writing, reading or deleting a Secret returns its data in the result"


@pytest.mark.parametrize("entry", ALL_TASKS, ids=_id)
def test_a_secret_in_the_arguments_means_no_log(entry):
    _, task, no_log = entry
    module = module_of(task)
    if module is None or no_log or _no_log(task):
        return
    if (entry[0], task.get("name")) in READS_ONLY:
        return
    args = task.get(module)
    if isinstance(args, dict):
        args = {
            k: v for k, v in args.items() if k not in NO_LOG_OPTIONS.get(module, set()) and not (HCLOUD.match(module) and k == "api_token")
        }
    if module == "ansible.builtin.assert" and isinstance(args, dict):
        args = {k: v for k, v in args.items() if k != "that"}  # conditions are printed as written, not rendered
    refs = secret_refs([args, task.get("vars"), task.get("loop")])
    assert refs == [], "%s uses %s: its arguments are printed at -vvv" % (module, ", ".join(refs))
