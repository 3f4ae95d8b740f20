"""kubectl helpers of the platform-core lab tests and benchmark (import as a plain module)."""

from __future__ import annotations

import json
import os
import tempfile

FIELD_MANAGER = "llm-platform-test"


def apply_docs(kit, docs, *extra, namespace=None, check=True):
    """kubectl apply --server-side of ``docs`` (a list of objects)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"apiVersion": "v1", "kind": "List", "items": docs}, fh)
        path = fh.name
    try:
        args = ["apply", "--server-side", "--force-conflicts", f"--field-manager={FIELD_MANAGER}", "-f", path, *extra]
        if namespace:
            args += ["-n", namespace]
        return kit.kubectl(*args, check=check, timeout=300)
    finally:
        os.unlink(path)


def diff_docs(kit, docs, namespace=None):
    """kubectl diff --server-side (same field manager); returncode 0 = no change."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"apiVersion": "v1", "kind": "List", "items": docs}, fh)
        path = fh.name
    try:
        args = ["diff", "--server-side", "--force-conflicts", f"--field-manager={FIELD_MANAGER}", "-f", path]
        if namespace:
            args += ["-n", namespace]
        return kit.kubectl(*args, check=False, timeout=300)
    finally:
        os.unlink(path)
