"""Shared pytest setup: make the collection importable as ansible_collections.llm.platform
through Ansible's own collection loader (as ansible-playbook and ansible-test do)."""

from __future__ import annotations

import os

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO_ROOT, "collections")

# collections/ansible_collections/llm/platform is a symlink to the repo root;
# the bundle's collections (kubernetes.core, ...) are found on sys.path.
_AnsibleCollectionFinder(paths=[COLLECTIONS], scan_sys_paths=True)._install()
