"""Regenerate changelogs/changelog.yaml and CHANGELOG.rst from the fragments (antsibull-changelog).

    python scripts/changelog.py           # rewrite both files (make changelog)
    python scripts/changelog.py --check   # exit 1 when they are not what the fragments give

Every change adds a fragment under changelogs/fragments/ (keep_fragments: true, so they stay).
The release being prepared is galaxy.yml's version: its entry is rebuilt from scratch on every run
(antsibull-changelog only appends new fragments to an existing release, it never re-reads edited
ones), keeping the release date already recorded, or today for a new version. Earlier releases are
left as they are.
"""

from __future__ import annotations

import datetime
import difflib
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUTS = ("changelogs/changelog.yaml", "CHANGELOG.rst")
# Written by antsibull-changelog next to changelog.yaml; never committed (.gitignore).
CACHE = "changelogs/.plugin-cache.yaml"


def _copy_tree(dest):
    """The collection as antsibull-changelog needs it: galaxy.yml, changelogs/, and the plugins and
    roles it lists as new in the release."""
    for rel in ("galaxy.yml", "changelogs", "plugins", "roles", "meta", "CHANGELOG.rst"):
        src = os.path.join(REPO, rel)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dest, rel), symlinks=True, ignore=shutil.ignore_patterns("__pycache__", ".plugin-cache.yaml"))
        elif os.path.exists(src):
            shutil.copy2(src, os.path.join(dest, rel))


def regenerate(root):
    """Rebuild the current release's entry in ``root`` (a copy of the collection)."""
    with open(os.path.join(root, "galaxy.yml"), encoding="utf-8") as fh:
        version = str(yaml.safe_load(fh)["version"])
    path = os.path.join(root, "changelogs", "changelog.yaml")
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    releases = data.get("releases") or {}
    date = (releases.pop(version, None) or {}).get("release_date") or datetime.date.today().isoformat()
    data["releases"] = releases
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(data, fh, sort_keys=False)
    tool = os.path.join(os.path.dirname(sys.executable), "antsibull-changelog")
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run(
        [tool, "release", "--version", version, "--date", str(date), "--reload-plugins"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit("antsibull-changelog release failed:\n%s%s" % (proc.stdout, proc.stderr))


def main(argv):
    check = "--check" in argv
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "ansible_collections", "llm", "platform")
        os.makedirs(root)
        _copy_tree(root)
        regenerate(root)
        stale = []
        for rel in OUTPUTS:
            with open(os.path.join(root, rel), encoding="utf-8") as fh:
                want = fh.read()
            have_path = os.path.join(REPO, rel)
            have = ""
            if os.path.exists(have_path):
                with open(have_path, encoding="utf-8") as fh:
                    have = fh.read()
            if want == have:
                continue
            if check:
                diff = difflib.unified_diff(have.splitlines(True), want.splitlines(True), rel, rel + " (from the fragments)")
                stale.append("".join(list(diff)[:80]))
            else:
                with open(have_path, "w", encoding="utf-8") as fh:
                    fh.write(want)
                print("wrote %s" % rel)
    if stale:
        print("The changelog is not what the fragments give; run `make changelog`:\n" + "\n".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
