"""Helpers for the substrate tests (own module name: conftest names are shared across folders)."""

from __future__ import annotations

import contextlib
import io
import json
import os

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


def make_adc(fake, path):
    """Application Default Credentials for the fake GCP server: a service-account key file at
    ``path`` whose token_uri is the server's OAuth endpoint, trusted by it, with tokens required
    on every API call. Point GOOGLE_APPLICATION_CREDENTIALS at ``path``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    email = "ci@proj-1.iam.gserviceaccount.com"
    info = {
        "type": "service_account",
        "project_id": "proj-1",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": email,
        "client_id": "1",
        "token_uri": fake.url + "/token",
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(info, handle)
    os.chmod(path, 0o600)
    fake.trust_key(public, email)
    fake.require_token = True
    return str(path)
