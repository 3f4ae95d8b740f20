# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight validation of the whole config model, PRIVATE to this collection.

The config model is declared once in ``config_model.yml``: the variables in argument-spec
format and, under ``rules:``, one entry per rule (the substrates it applies to and what it
checks), so it doubles as documentation. :func:`validate`

1. checks every variable against the model and the given role specs (types, choices,
   required values, unknown keys),
2. builds the typed view of the config (:func:`~.view.normalise`) in which every value
   reported so far reads as INVALID,
3. runs the rules of every ``rules_*.py`` module in the model's order; each problem a rule
   reports makes its value INVALID for the rules after it.

All failures are collected; each variable is named once (a consequence of a problem already
named is never reported), and no secret value ever appears in a message.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
import os
import pkgutil

import yaml

from . import redact as _redact
from .registry import RULES
from .schema import SpecValidator
from .view import INVALID, Unknown, normalise, parse_path

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG_MODEL = os.path.join(HERE, "config_model.yml")
SUBSTRATES = ("gke", "hetzner", "byo", "lab")


class Failure:
    """One failed check: which variable, the bad value, what is allowed, and the rule."""

    __slots__ = ("allowed", "path", "rule", "text_value")

    def __init__(self, path, value, allowed, rule=None, no_log_names=(), secrets=()):
        self.path = str(path)
        self.rule = rule
        self.text_value = _redact.scrub(_show(_redact.redact(value, parse_path(path), no_log_names)), secrets)
        self.allowed = _redact.scrub(str(allowed), secrets)

    @property
    def value(self):
        return self.text_value

    def __str__(self):
        return "%s: got %s; allowed: %s" % (self.path, self.text_value, self.allowed)

    def as_dict(self):
        return {"variable": self.path, "value": self.text_value, "allowed": self.allowed, "rule": self.rule}


def _show(value):
    if value == _redact.HIDDEN:
        return value
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


@functools.lru_cache(maxsize=4)
def _read_model(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_model(path=CONFIG_MODEL):
    return copy.deepcopy(_read_model(path))


def load_spec(path=CONFIG_MODEL):
    return load_model(path)["options"]


def rule_modules():
    """Every ``rules_*`` module in this package, sorted by name (importing registers the rules)."""
    names = sorted(info.name for info in pkgutil.iter_modules([HERE]) if info.name.startswith("rules_"))
    return [importlib.import_module("%s.%s" % (__name__, name)) for name in names]


def rule_docs(model=None):
    """``{rule id: {substrates, variables, description}}`` from the config model, in order."""
    return dict((model or _read_model(CONFIG_MODEL)).get("rules") or {})


def no_log_names(*option_sets):
    """Names of every ``no_log`` option, nested ones included."""
    names = set()
    for options in option_sets:
        for name, spec in (options or {}).items():
            if spec.get("no_log"):
                names.add(name)
            names |= no_log_names(spec.get("options"))
    return names


class Report:
    """Collects failures: once per variable path, never under a path already reported,
    values redacted; each reported value becomes INVALID in the view for later rules."""

    def __init__(self, config, hidden, secrets):
        self.config = config
        self.hidden = hidden
        self.secrets = secrets
        self.failures = []
        self._paths = set()

    def err(self, path, value, allowed, rule=None):
        keys = parse_path(path)
        if any(keys[:n] in self._paths for n in range(1, len(keys) + 1)):
            return
        self._paths.add(keys)
        self.failures.append(Failure(path, value, allowed, rule, self.hidden, self.secrets))
        self.config.mark(path)


def validate(cfg, extra_specs=None, context=None):
    """Validate ``cfg`` (a mapping of variable name to value).

    ``extra_specs`` maps a label (e.g. a role name) to argument-spec options validated too,
    such as the selected substrate role's spec. ``context`` holds facts from outside the
    variables (``hosts``: inventory groups -> host -> vars; ``exists``: a path test).
    Returns a list of :class:`Failure`.
    """
    model = _read_model(CONFIG_MODEL)
    specs = [model["options"]] + [options for _label, options in sorted((extra_specs or {}).items())]
    hidden = no_log_names(*specs)
    config = normalise(cfg, context)
    report = Report(config, hidden, _redact.secret_values(dict(cfg), hidden))
    for options in specs:
        SpecValidator(report.err, config.mark).validate(options, cfg)
    run_rules(config, report.err, model)
    return report.failures


def run_rules(config, err, model=None):
    rule_modules()
    docs = rule_docs(model)
    substrate = config.get("substrate")
    substrate = substrate if substrate is not INVALID else None
    order = [rid for rid in docs if rid in RULES] + sorted(rid for rid in RULES if rid not in docs)
    for rule_id in order:
        scope = (docs.get(rule_id) or {}).get("substrates") or ["all"]
        if "all" not in scope and substrate not in scope:
            continue
        _run(RULES[rule_id], config, _bound(err, rule_id))


def _bound(err, rule_id):
    def report(path, value, allowed):
        err(path, value, allowed, rule_id)

    return report


def _run(rule, config, err):
    if rule.each is None:
        with contextlib.suppress(Unknown):
            rule.fn(config, err)
        return
    for path, item in config.items(rule.each):
        try:
            rule.fn(config, path, item, err)
        except Unknown:
            continue


__all__ = ["INVALID", "SUBSTRATES", "Failure", "load_spec", "rule_docs", "validate"]
