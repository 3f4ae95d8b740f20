"""How preflight reports: a type error hides nothing else and causes nothing else, every problem
is printed once (also through ansible-playbook, where ansible-core prints a failed task's msg
twice), and no secret value appears in a message."""

from __future__ import annotations

import copy

import pytest
from kit import BIN, REPO_ROOT, build_config, role_spec, run_playbook_cases, validate, write_kubeconfig

from ansible_collections.llm.platform.plugins.plugin_utils import preflight

# Independent mistakes in one lab config; the first is a type error inside the tenants tree,
# next to other problems of the same tree (another tenant, and the same tenant's own fields).
SEVERAL = {
    "tenants.0.budget.max_usd": "lots",  # type error
    "tenants.0.budget.window": "30x",  # same tenant, other field
    "tenants.1.models": ["qwen-local", "gpt-5"],  # another tenant
    "tenants.2.name": "team-a",  # duplicate of tenants[0]
    "cost_tier": "cheap",  # choices
    "models.2.price.input_per_token": -1.0,
    "gpu_pools.0.gpus_per_node": "one",  # type error the quota and fit rules depend on
}
EXPECTED = [
    "tenants[0].budget.max_usd",
    "tenants[0].budget.window",
    "tenants[1].models[1]",
    "tenants[2].name",
    "cost_tier",
    "models[2].price.input_per_token",
    "gpu_pools[0].gpus_per_node",
]


def several(tmp_path):
    from kit import apply

    return apply(build_config("lab", "lab-three-models.yml", write_kubeconfig(tmp_path)), SEVERAL)


def test_every_independent_problem_is_reported_once(tmp_path):
    failures = validate("lab", several(tmp_path))
    paths = [f.path for f in failures]
    assert sorted(paths) == sorted(EXPECTED), "\n".join(map(str, failures))
    assert len(paths) == len(set(paths))


def test_each_problem_is_printed_once_through_ansible_playbook(tmp_path):
    results, out, calls = run_playbook_cases("lab", [("several", several(tmp_path))], tmp_path)
    assert calls == []
    assert sorted(results["several"]["failed_variables"]) == sorted(EXPECTED)
    for path in EXPECTED:
        assert out.count("- %s: got" % path) == 1, (path, out)
    assert out.count("'lots'") == 1 and out.count("'30x'") == 1
    assert out.count("Configuration invalid, %d problem(s)" % len(EXPECTED)) >= 1


def test_a_type_error_does_not_hide_the_tree(cfg):
    cfg["tenants"][0]["budget"]["max_usd"] = "lots"
    cfg["tenants"][1]["models"] = ["nope"]
    cfg["tenants"][1]["budget"]["window"] = "forever"
    assert sorted(f.path for f in preflight.validate(cfg)) == [
        "tenants[0].budget.max_usd",
        "tenants[1].budget.window",
        "tenants[1].models[0]",
    ]


def test_an_ill_typed_item_is_skipped_alone(cfg):
    cfg["tenants"].insert(0, "team-z")  # not a mapping
    cfg["tenants"][2]["models"] = ["nope"]
    assert [f.path for f in preflight.validate(cfg)] == ["tenants[0]", "tenants[2].models[0]"]


def test_no_consequence_of_an_unknown_model_name(cfg):
    """A model whose name is ill-typed could be the one a tenant refers to: the reference is
    not reported as unknown (only the name is)."""
    cfg["models"][0]["name"] = 42
    assert [f.path for f in preflight.validate(cfg)] == ["models[0].name"]


def test_no_consequence_of_an_unknown_pool(cfg):
    cfg["gpu_pools"][0]["max_nodes"] = "2"
    cfg["platform_gpu_quota"] = 2
    cfg["tenants"][0]["gpu_queue"] = {"gpus": 2}
    assert [f.path for f in preflight.validate(cfg)] == ["gpu_pools[0].max_nodes"]


def test_a_mistyped_key_is_not_also_a_missing_one(cfg):
    cfg["tenants"][0]["budgett"] = cfg["tenants"][0].pop("budget")
    (failure,) = preflight.validate(cfg)
    assert failure.path == "tenants[0].budgett" and "did you mean 'budget'" in failure.allowed


def test_a_required_string_must_not_be_empty(cfg):
    cfg["platform_repo_url"] = "  "
    assert [f.path for f in preflight.validate(cfg)] == ["platform_repo_url"]


def test_the_same_variable_from_two_specs_is_named_once(cfg):
    spec = {"cost_tier": {"type": "str", "choices": ["cost", "dev", "prod"]}}
    cfg["cost_tier"] = "cheap"
    assert [f.path for f in preflight.validate(cfg, {"a": spec, "b": copy.deepcopy(spec)})] == ["cost_tier"]


SECRET = "s3cr3t-V4lue-that-must-not-print"


@pytest.mark.parametrize(
    ("name", "value", "spec"),
    [
        ("platform_argocd_repo_password", 12345, role_spec("platform_argocd")),  # no_log in the spec, ill-typed
        ("bench_api_key", ["sk-" + SECRET], role_spec("bench")),
        ("tenants_litellm_master_key", {"v": SECRET}, role_spec("tenants")),
        ("substrate_hetzner_k3s_token", 7, role_spec("substrate_hetzner")),
    ],
)
def test_a_secret_option_value_is_never_shown(cfg, name, value, spec):
    cfg[name] = value
    (failure,) = preflight.validate(cfg, spec)
    assert failure.path == name
    text = str(failure) + repr(failure.as_dict())
    assert SECRET not in text and "12345" not in text and "'7'" not in text
    assert "<hidden" in text


def test_a_secret_named_key_inside_a_mapping_is_hidden(cfg):
    cfg["tenants"][0]["keys"] = [{"name": "ci", "api_key": "sk-" + SECRET}]
    (failure,) = preflight.validate(cfg)
    assert failure.path == "tenants[0].keys[0].api_key"
    assert SECRET not in str(failure)


@pytest.mark.parametrize(
    ("name", "url", "pointer"),
    [
        ("platform_repo_url", "https://bot:%s@github.com/acme/llm-platform.git" % SECRET, "LLM_PLATFORM_REPO_TOKEN"),
        ("platform_repo_url", "https://%s@github.com/acme/llm-platform.git" % SECRET, "platform_argocd_repo_password"),
        ("tenants_litellm_api_url", "http://admin:%s@127.0.0.1:4000" % SECRET, "LITELLM_MASTER_KEY"),
        ("bench_endpoint", "http://x:%s@127.0.0.1:4000/v1" % SECRET, "BENCH_API_KEY"),
        ("bench_prometheus_url", "http://127.0.0.1:9090/?token=%s" % SECRET, "query string"),
    ],
)
def test_a_secret_in_a_url_is_rejected_with_a_pointer_and_not_shown(cfg, name, url, pointer):
    cfg[name] = url
    (failure,) = preflight.validate(cfg)
    assert failure.path == name
    assert pointer in failure.allowed
    assert SECRET not in str(failure)


def test_an_ssh_url_with_a_user_is_fine(cfg):
    cfg["platform_repo_url"] = "ssh://git@github.com/acme/llm-platform.git"
    assert preflight.validate(cfg) == []
    cfg["platform_repo_url"] = "git@github.com:acme/llm-platform.git"
    assert preflight.validate(cfg) == []


def test_a_template_error_of_a_secret_option_hides_its_detail(tmp_path):
    """Through the action plugin: a secret option whose template fails names the variable only."""
    import os
    import subprocess

    playbook = tmp_path / "p.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  roles: []\n  tasks:\n    - llm.platform.preflight: {roles: [tenants]}\n"
    )
    extra = tmp_path / "e.yml"
    extra.write_text('tenants_litellm_master_key: "{{ undefined_thing_%s }}"\n' % SECRET.replace("-", "_"))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "-i", os.path.join(REPO_ROOT, "inventories", "lab"), str(playbook), "-e", "@%s" % extra],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        check=False,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "- tenants_litellm_master_key: got" in out
    assert "detail hidden" in out
    assert out.count("- tenants_litellm_master_key: got") == 1
