"""Fixtures for the substrate tests: the fake Google API server and connection arguments."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakegcp import FakeGcp


@pytest.fixture
def fake():
    server = FakeGcp(op_polls=2).start()
    yield server
    server.stop()


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
