"""Shared pytest setup: make the collection importable as ansible_collections.llm.platform
through Ansible's own collection loader (as ansible-playbook and ansible-test do)."""

from __future__ import annotations

import os

import pytest
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO_ROOT, "collections")

# collections/ansible_collections/llm/platform is a symlink to the repo root;
# the bundle's collections (kubernetes.core, ...) are found on sys.path.
_AnsibleCollectionFinder(paths=[COLLECTIONS], scan_sys_paths=True)._install()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under scripts/test.sh (LLM_PLATFORM_STRICT_SKIPS=1) a skip is a failure.

    Tests skip when a component is missing (no lab, no helm, not root) so a developer
    can run a slice anywhere; the full suite sets everything up itself, so a skip there
    means a broken set-up that would otherwise pass silently."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("LLM_PLATFORM_STRICT_SKIPS") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = "skipped in the full suite, so its set-up is incomplete: %s" % reason


def pytest_collection_modifyitems(config, items):
    """The living tests run last: scripts/test.sh builds their binaries in the background while
    every other test runs. Among them, those that reshape the living lab's platform (marker
    `reshapes`) come at the very end. The order within each part is kept."""
    items[:] = sorted(
        items, key=lambda item: (item.get_closest_marker("living") is not None, item.get_closest_marker("reshapes") is not None)
    )
