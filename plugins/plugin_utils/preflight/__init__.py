# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight validation of the whole config model, PRIVATE to this collection.

The config model is declared once in ``config_model.yml`` (argument-spec
format, so it doubles as documentation). :func:`validate` checks every
variable against it, then runs every ``rules_*.py`` module in this package for
the rules a spec cannot express (cross references, name formats, CIDRs,
quotas). All failures are collected; nothing stops at the first one.
"""

from __future__ import annotations

import importlib
import os
import pkgutil

import yaml

from .schema import SpecValidator

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG_MODEL = os.path.join(HERE, "config_model.yml")


class Failure:
    """One failed check: which variable, the bad value, what is allowed."""

    __slots__ = ("allowed", "path", "value")

    def __init__(self, path, value, allowed):
        self.path = path
        self.value = value
        self.allowed = allowed

    def __str__(self):
        return "%s: got %s; allowed: %s" % (self.path, _show(self.value), self.allowed)

    def as_dict(self):
        return {"variable": self.path, "value": _show(self.value), "allowed": self.allowed}


def _show(value):
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def load_spec(path=CONFIG_MODEL):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["options"]


def rule_modules():
    """Every ``rules_*`` module in this package, sorted by name."""
    names = sorted(info.name for info in pkgutil.iter_modules([HERE]) if info.name.startswith("rules_"))
    return [importlib.import_module("%s.%s" % (__name__, name)) for name in names]


def validate(cfg, extra_specs=None):
    """Validate ``cfg`` (a mapping of variable name to value).

    ``extra_specs`` maps a label (e.g. a role name) to argument-spec options
    that are validated too, such as the selected substrate role's spec.
    Returns a list of :class:`Failure`.
    """
    failures = []

    def err(path, value, allowed):
        failures.append(Failure(path, value, allowed))

    SpecValidator(err).validate(load_spec(), cfg)
    for _label, options in sorted((extra_specs or {}).items()):
        SpecValidator(err).validate(options, cfg)
    # Cross-field rules only look at values that passed the type checks, so
    # one bad value is reported once, by the check that names it best.
    bad = {f.path.split("[")[0].split(".")[0] for f in failures}
    for module in rule_modules():
        module.check(_View(cfg, bad), err)
    return failures


class _View(dict):
    """The config as rules see it: variables that failed type checks read as absent."""

    def __init__(self, cfg, bad):
        super().__init__((k, v) for k, v in cfg.items() if k not in bad)
