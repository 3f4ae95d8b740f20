"""playbooks/secrets.yml (what site.yml now runs before the platform) against the remote secret
backends' test servers, no cluster needed: Secret Manager through Application Default
Credentials (a key file found by google-auth via GOOGLE_APPLICATION_CREDENTIALS, exchanged at
the test server's token endpoint) and Vault KV v2. Create-if-absent, a pre-existing value kept,
a rerun with changed=0, check mode without writes, and no value or credential in -vvv output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from fakevault import FakeVault
from substratekit import make_adc

pytestmark = pytest.mark.substrates

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
RECAP = re.compile(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")
SEEDED = {"litellm-master-key", "litellm-salt-key", "vllm-api-key", "litellm-db-password", "grafana-admin-password"}


def secrets_play(tmp_path, extra, *args, env=None):
    (tmp_path / "ev.json").write_text(json.dumps(extra))
    e = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), LLM_PLATFORM_GCP_RETRY_BACKOFF="0.01")
    for name in ("GOOGLE_OAUTH_ACCESS_TOKEN", "VAULT_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS"):
        e.pop(name, None)
    e.update(env or {})
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    # The GKE sample inventory: a real cloud's secrets config (gcpsm) with the test server's endpoint.
    cmd = [exe, "-i", "inventories/gke", "playbooks/secrets.yml", "-e", "@" + str(tmp_path / "ev.json"), *args]
    proc = subprocess.run(cmd, cwd=REPO, env=e, capture_output=True, text=True, timeout=600, check=False)
    found = RECAP.search(proc.stdout)
    assert found, proc.stdout[-3000:] + proc.stderr[-2000:]
    return proc, int(found.group(2)), int(found.group(4))


def test_secret_manager_seeding_with_application_default_credentials(fake, tmp_path):
    fake.secrets[("proj-1", "litellm-salt-key")] = {"name": "projects/123456789012/secrets/litellm-salt-key"}
    fake.versions[("proj-1", "litellm-salt-key")] = [b"pre-existing-salt"]
    adc = make_adc(fake, tmp_path / "sa.json")
    extra = {"secret_gcp_project_id": "proj-1", "secrets_gcp_endpoint": fake.url + "/secretmanager/v1", "platform_profile": "full"}
    env = {"GOOGLE_APPLICATION_CREDENTIALS": adc}

    check, changed, failed = secrets_play(tmp_path, extra, "--check", env=env)
    assert failed == 0 and changed == 1, check.stdout[-3000:]
    assert fake.mutations() == []

    first, changed, failed = secrets_play(tmp_path, extra, "-vvv", env=env)
    assert failed == 0 and changed == 1, first.stdout[-4000:]
    assert fake.tokens, "google-auth never exchanged the key for a token"
    seeded = {name for (project, name) in fake.versions if project == "proj-1"}
    assert seeded >= SEEDED
    assert fake.versions[("proj-1", "litellm-salt-key")] == [b"pre-existing-salt"]
    values = {name: fake.versions[("proj-1", name)][-1].decode() for name in SEEDED - {"litellm-salt-key"}}
    assert all(re.fullmatch(r"[0-9a-f]{32}|[0-9a-f]{64}", v) for v in values.values())
    key = json.loads((tmp_path / "sa.json").read_text())["private_key"]
    out = first.stdout + first.stderr
    for value in [*values.values(), *fake.tokens]:
        assert value not in out
    assert key.splitlines()[1] not in out

    mark = fake.mark()
    second, changed, failed = secrets_play(tmp_path, extra, env=env)
    assert (changed, failed) == (0, 0), second.stdout[-3000:]
    assert fake.mutations(mark) == []
    assert {name: fake.versions[("proj-1", name)][-1].decode() for name in values} == values


def test_secret_manager_refuses_without_credentials(fake, tmp_path):
    """No ADC and no token: the run fails saying what to provide, before anything is written."""
    fake.require_token = True
    extra = {
        "secret_gcp_project_id": "proj-1",
        "secrets_gcp_endpoint": fake.url + "/secretmanager/v1",
        "secrets_gcp_auth_kind": "anonymous",
    }
    proc, _changed, failed = secrets_play(tmp_path, extra)
    assert failed == 1 and "Could not get an access token (anonymous credentials)" in proc.stdout, proc.stdout[-3000:]
    assert fake.mutations() == []


def test_vault_kv2_seeding_is_create_if_absent(tmp_path):
    token = "hvs.test-" + os.urandom(6).hex()
    vault = FakeVault(token).start()
    try:
        vault.kv["litellm-salt-key"] = [{"value": "pre-existing-salt"}]
        extra = {
            "secret_backend": "vault",
            "secret_store_auth": "kubernetes",
            "secret_vault_server": vault.url,
            "secret_vault_path": "secret",
            "platform_profile": "full",
        }
        first, changed, failed = secrets_play(tmp_path, extra, "-vvv", env={"VAULT_TOKEN": token})
        assert failed == 0 and changed >= 1, first.stdout[-4000:]
        assert vault.kv["litellm-salt-key"] == [{"value": "pre-existing-salt"}]
        assert set(vault.kv) >= SEEDED
        values = {k: v[-1]["value"] for k, v in vault.kv.items() if k != "litellm-salt-key"}
        assert all(len(v) == 1 for k, v in vault.kv.items())
        out = first.stdout + first.stderr
        assert token not in out and not any(v in out for v in values.values() if v)  # operator-supplied ones are seeded empty
        mark = len(vault.log)
        second, changed, failed = secrets_play(tmp_path, extra, env={"VAULT_TOKEN": token})
        assert (changed, failed) == (0, 0), second.stdout[-3000:]
        assert [m for m, _p, _s in vault.log[mark:]] == ["GET"] * (len(vault.log) - mark)
        # A wrong token: Vault says permission denied and the play stops without writing.
        mark = len(vault.log)
        denied, _changed, failed = secrets_play(tmp_path, extra, env={"VAULT_TOKEN": "hvs.wrong"})
        assert failed == 1 and {s for _m, _p, s in vault.log[mark:]} == {403}
        assert "hvs.wrong" not in denied.stdout + denied.stderr
    finally:
        vault.stop()
