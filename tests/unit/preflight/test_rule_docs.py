"""The config model documents every rule and every documented rule exists, so the docs
(docs/config-model.md, generated from the model) and the rules cannot drift."""

from __future__ import annotations

import os

from ansible_collections.llm.platform.plugins.plugin_utils import preflight
from ansible_collections.llm.platform.plugins.plugin_utils.preflight.registry import RULES
from ansible_collections.llm.platform.plugins.plugin_utils.preflight.schema import SCHEMA_RULES

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "config-model.md")


def test_every_rule_has_a_doc_and_every_doc_a_rule():
    preflight.rule_modules()
    docs = preflight.rule_docs()
    code = set(RULES) | set(SCHEMA_RULES)
    assert sorted(code - set(docs)) == [], "rules without an entry under rules: in config_model.yml"
    assert sorted(set(docs) - code) == [], "entries under rules: without a rule"


def test_every_doc_says_where_and_what():
    for rule_id, doc in preflight.rule_docs().items():
        assert set(doc) == {"substrates", "variables", "description"}, rule_id
        assert doc["substrates"] and set(doc["substrates"]) <= {"all", *preflight.SUBSTRATES}, rule_id
        assert doc["variables"], rule_id
        assert doc["description"].endswith(".") and len(doc["description"]) > 20, rule_id
        if rule_id.split(".")[0] in preflight.SUBSTRATES:
            assert doc["substrates"] == [rule_id.split(".")[0]], "%s applies to its own substrate only" % rule_id


def test_every_cloud_has_rules_of_its_own():
    docs = preflight.rule_docs()
    for cloud in preflight.SUBSTRATES:
        assert [r for r, d in docs.items() if cloud in d["substrates"]], cloud


def test_the_generated_docs_show_every_rule():
    with open(DOCS, encoding="utf-8") as handle:
        text = handle.read()
    for rule_id, doc in preflight.rule_docs().items():
        assert "`%s`" % rule_id in text, rule_id
        shown = " ".join(doc["description"].split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
        assert shown in text, rule_id


def test_a_rule_reports_under_its_own_id(cfg):
    cfg["tenants"][0]["budget"]["window"] = "30x"
    cfg["cost_tier"] = "cheap"
    rules = {f.path: f.rule for f in preflight.validate(cfg)}
    assert rules == {"tenants[0].budget.window": "tenants.budget", "cost_tier": "schema.choices"}
