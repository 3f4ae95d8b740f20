"""Fixtures: a LiteLLMClient wired to the in-memory fake (no sockets, no sleeping)."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_litellm import Fake

from ansible_collections.llm.platform.plugins.module_utils import _litellm


@pytest.fixture
def fake():
    return Fake()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(fake, sleeps):
    c = _litellm.LiteLLMClient("http://127.0.0.1:4000/", fake.master_key, timeout=5, retries=3, sleep=sleeps.append, changed_by="unit")
    c._send = fake.send
    return c
