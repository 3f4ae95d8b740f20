"""Role argument specs declare the types their values really have: a documented list option
declared as a string made preflight reject a valid config (substrate_hetzner_cpu_pools)."""

from __future__ import annotations

import os
import re

import pytest
import yaml
from kit import REPO_ROOT

from ansible_collections.llm.platform.plugins.plugin_utils import preflight

ROLES = sorted(r for r in os.listdir(os.path.join(REPO_ROOT, "roles")) if os.path.isdir(os.path.join(REPO_ROOT, "roles", r)))
_FORWARD = re.compile(r"^\{\{\s*(?P<name>[a-z_]+)\s*(\|\s*default\([^)]*\)\s*)?\}\}$")
_KIND = {list: "list", dict: "dict", bool: "bool", int: "int", float: "float", str: "str"}
_COMPATIBLE = {("str", "path"), ("path", "str"), ("float", "int")}  # (declared, value): an int is a float


def _load(role, *parts):
    path = os.path.join(REPO_ROOT, "roles", role, *parts)
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _cases():
    model = preflight.load_spec()
    for role in ROLES:
        defaults = _load(role, "defaults", "main.yml")
        options = _load(role, "meta", "argument_specs.yml")["argument_specs"]["main"].get("options") or {}
        for name, spec in options.items():
            if name not in defaults:
                continue
            value, declared = defaults[name], spec.get("type", "str")
            forward = _FORWARD.match(value.strip()) if isinstance(value, str) else None
            if forward and forward.group("name") in model:
                expected = model[forward.group("name")].get("type", "str")
                yield role, name, declared, expected, "forwards %s" % forward.group("name")
            elif not (isinstance(value, str) and "{{" in value) and type(value) in _KIND and value is not None:
                yield role, name, declared, _KIND[type(value)], "its default %r" % (value,)


CASES = list(_cases())


@pytest.mark.parametrize(("role", "name", "declared", "expected", "why"), CASES, ids=["%s.%s" % c[:2] for c in CASES])
def test_declared_type_matches_the_value(role, name, declared, expected, why):
    assert declared == expected or (declared, expected) in _COMPATIBLE or declared == "raw", "%s: type %s, but %s is a %s" % (
        name,
        declared,
        why,
        expected,
    )


def test_the_hetzner_cpu_pools_of_a_valid_config_pass():
    spec = {"substrate_hetzner": _load("substrate_hetzner", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]}
    cfg = {"substrate_hetzner_cpu_pools": [{"name": "workers", "machine_type": "cpx42", "min_nodes": 3, "max_nodes": 3}]}
    assert [f.path for f in preflight.validate(cfg, spec) if f.path.startswith("substrate_hetzner_cpu_pools")] == []
