"""Secrets: the tenants playbook at -vvv (onboarding, a rotation, an update) prints no
master key and no virtual key, and writes none into any file the run wrote (its log,
Ansible's temp dirs, the repo). With the lab, test_lab_tenants.py also checks the exact
raw keys read back from the tenants' Secrets."""

from __future__ import annotations

import os
import re
import time

import pytest
from conftest import REPO_ROOT, run_playbook, tenant, tenants_vars

pytestmark = pytest.mark.litellm

RAW_KEY = re.compile(r"sk-[A-Za-z0-9_\-]{16,}")


def files_written_since(marker, roots):
    out = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in (".git", "collections", "node_modules", "__pycache__")]
            for f in filenames:
                p = os.path.join(dirpath, f)
                try:
                    if os.path.getmtime(p) >= marker:
                        out.append(p)
                except OSError:
                    pass
    return out


def test_no_master_or_virtual_key_in_vvv_output_or_files(db, tmp_path):
    log = tmp_path / "ansible.log"
    env = {"ANSIBLE_LOG_PATH": str(log)}
    tenants = [tenant("it-sec-a", keys=[{"name": "default"}, {"name": "ci", "max_usd": 1.0}]), tenant("it-sec-b")]
    marker = time.time() - 1
    runs = [run_playbook(db, tmp_path, tenants_vars(db, tenants), "-vvv", env=env)]
    # Rotation returns new raw keys again; a budget change and --check --diff too.
    runs.append(run_playbook(db, tmp_path, tenants_vars(db, tenants, tenants_rotate=["it-sec-a"]), "-vvv", "--diff", env=env))
    tenants[1]["budget"]["max_usd"] = 3.0
    runs.append(run_playbook(db, tmp_path, tenants_vars(db, tenants), "-vvv", "--check", "--diff", env=env))
    for run in runs:
        assert run.rc == 0, run
    assert runs[1].changed >= 1
    rotated = db.psql("SELECT count(*) FROM \"LiteLLM_VerificationToken\" WHERE key_alias LIKE 'it-sec-a-%--rotated-%'")
    assert rotated == [["2"]]  # the raw keys really went through the module twice

    for run in runs:
        assert db.master_key not in run.out
        assert RAW_KEY.findall(run.out) == []
        assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in run.out or "censored" in run.out

    # Files of this run: its log and temp dirs (any sk- key), and anything in the repo
    # written meanwhile (others may edit the checkout: only the session's master key there).
    ours = files_written_since(marker, [str(tmp_path), os.path.expanduser("~/.ansible")])
    assert str(log) in ours and log.stat().st_size > 10000
    for p in ours + files_written_since(marker, [REPO_ROOT]):
        with open(p, "rb") as f:
            data = f.read()
        assert db.master_key.encode() not in data, p
        if p in ours:
            assert not RAW_KEY.search(data.decode("utf-8", "replace")), p
