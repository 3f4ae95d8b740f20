"""Fixtures for the substrate tests: the fake Google API server and an in-process module runner."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from fakegcp import FakeGcp  # noqa: E402


@pytest.fixture
def fake():
    server = FakeGcp(op_polls=2).start()
    yield server
    server.stop()


def run_module(module, args, check=False, diff=True):
    """Run an Ansible module's main() in-process; return its JSON result (failed or not)."""
    from ansible.module_utils.testing import patch_module_args

    out = io.StringIO()
    full = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    with patch_module_args(full), contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        module.main()
    return json.loads(out.getvalue())


@pytest.fixture
def gcp_args(fake):
    """Connection arguments pointing the GCP modules at the fake server, fast retries and polls."""
    return {
        "auth_kind": "anonymous",
        "api_endpoint": fake.endpoint,
        "retry_backoff": 0.01,
        "poll_interval": 0.01,
        "operation_timeout": 20,
    }
