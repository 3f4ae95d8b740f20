"""Run a playbook for the master-key tests with no LiteLLM key, Vault token or GCP credentials
in the environment unless the test puts them there (own module: conftest names are shared)."""

from __future__ import annotations

import json
import os
import subprocess

from conftest import BIN, REPO_ROOT, Run


def play(tmp_path, playbook, data, *args, env=None):
    """ansible-playbook with ``data`` as extra vars and no LiteLLM key in the environment
    unless ``env`` puts one there."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    vars_file = tmp_path / ("vars-%d.json" % len(list(tmp_path.glob("vars-*.json"))))
    vars_file.write_text(json.dumps(data))
    e = {k: v for k, v in os.environ.items() if k not in ("LITELLM_MASTER_KEY", "VAULT_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS")}
    e.update(
        ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
        PATH=BIN + os.pathsep + e.get("PATH", ""),
        LLM_PLATFORM_GCP_RETRY_BACKOFF="0.01",
    )
    e.update(env or {})
    proc = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), playbook, "-e", "@%s" % vars_file, *args],
        cwd=REPO_ROOT,
        env=e,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return Run(proc, vars_file)
