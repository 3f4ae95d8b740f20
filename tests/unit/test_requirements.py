"""requirements.yml pins exactly the collection versions the pinned ansible bundle ships,
so Galaxy users and the venv run the same code."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_collection_pins_match_the_bundle():
    with open(os.path.join(REPO_ROOT, "requirements.yml"), encoding="utf-8") as handle:
        pins = {c["name"]: c["version"] for c in yaml.safe_load(handle)["collections"]}
    out = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-galaxy"), "collection", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=""),
    ).stdout
    shipped = {}
    for path_entries in json.loads(out).values():
        for name, info in path_entries.items():
            shipped.setdefault(name, info["version"])
    assert {name: shipped.get(name) for name in pins} == pins


def test_python_pins_are_exact_and_installed():
    with open(os.path.join(REPO_ROOT, "requirements.txt"), encoding="utf-8") as handle:
        lines = [line.split("#")[0].strip() for line in handle]
    pins = [line for line in lines if line]
    assert pins, "requirements.txt is empty"
    for pin in pins:
        match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)", pin)
        assert match, "not an exact pin: %s" % pin
        name = match.group(1).split("[")[0]
        assert importlib.metadata.version(name) == match.group(2), pin
    assert not any(line.startswith("openshift") for line in pins), "openshift is obsolete for kubernetes.core"
