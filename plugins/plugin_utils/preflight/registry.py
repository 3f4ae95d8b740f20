# Copyright: llm.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry of preflight rules (PRIVATE to this collection).

Every rule is a function decorated with ``@rule("<id>")``; the id has an entry under
``rules:`` in config_model.yml saying which substrates it applies to and, in one sentence,
what it checks (the docs are generated from those entries; a unit test fails when a rule
has no entry or an entry has no rule). A rule with ``each="<list variable>"`` is called once
per item of that list, so an item it cannot judge is skipped without skipping the others.
"""

from __future__ import annotations

RULES = {}


class Rule:
    __slots__ = ("each", "fn", "id")

    def __init__(self, rule_id, fn, each):
        self.id = rule_id
        self.fn = fn
        self.each = each


def rule(rule_id, each=None):
    """Register the decorated function as the rule ``rule_id``."""

    def register(fn):
        if rule_id in RULES:
            raise ValueError("preflight rule %r is defined twice" % rule_id)
        RULES[rule_id] = Rule(rule_id, fn, each)
        return fn

    return register
