"""Helpers for the substrate tests (own module name: conftest names are shared across folders)."""

from __future__ import annotations

import contextlib
import io
import json

import pytest


def run_module(module, args, check=False, diff=True):
    """Run an Ansible module's main() in-process; return its JSON result (failed or not)."""
    from ansible.module_utils.testing import patch_module_args

    out = io.StringIO()
    full = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    with patch_module_args(full), contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        module.main()
    return json.loads(out.getvalue())


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()
