"""The lab's git host: what the living lab's Argo CD reads, served by `git daemon` on 127.0.0.1
inside the lab's namespace (git://127.0.0.1:<port>/<repo>.git).

  lab_git.py snapshot --source CHECKOUT --repo BARE --branch B
      Commit the checkout's gitops/ as it is in the working tree (tracked and untracked files,
      .gitignore honoured, uncommitted edits included) on branch B of BARE. A tree equal to the
      branch's is not committed again, so a rerun reports changed=false.
  lab_git.py mirror --manifest JSON --repo BARE --branch B
      Commit the upstream charts and manifests listed in JSON (lab/build.sh crds writes it:
      {dest: {src, edits}}, src a directory of a Go module zip) under their dest paths on
      branch B, with the edits lab/versions.yml declares applied.

Commits use a fixed author and date: the same tree always gives the same commit. Prints one
JSON line {changed, commit}. Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

ENV = {
    "GIT_AUTHOR_NAME": "llm.platform lab",
    "GIT_AUTHOR_EMAIL": "lab@llm-platform.invalid",
    "GIT_COMMITTER_NAME": "llm.platform lab",
    "GIT_COMMITTER_EMAIL": "lab@llm-platform.invalid",
    "GIT_AUTHOR_DATE": "1970-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "1970-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}


def git(repo: str, *args: str, env: dict | None = None, check: bool = True) -> str:
    full = dict(os.environ, **ENV, GIT_DIR=repo, **(env or {}))
    cwd = full.get("GIT_WORK_TREE")  # pathspecs are relative to the work tree
    proc = subprocess.run(["git", *args], capture_output=True, text=True, env=full, cwd=cwd, check=False)
    if check and proc.returncode != 0:
        raise SystemExit("git %s failed: %s" % (" ".join(args), proc.stderr.strip()))
    return proc.stdout.strip()


def ensure_repo(repo: str) -> None:
    if not os.path.exists(os.path.join(repo, "HEAD")):
        os.makedirs(repo, exist_ok=True)
        subprocess.run(["git", "init", "-q", "--bare", repo], check=True, env=dict(os.environ, **ENV))
        # git daemon serves only repositories that say so.
        open(os.path.join(repo, "git-daemon-export-ok"), "w").close()


def commit_tree(repo: str, branch: str, tree: str, message: str) -> dict:
    ref = "refs/heads/" + branch
    old = git(repo, "rev-parse", "-q", "--verify", ref, check=False)
    if old and git(repo, "rev-parse", old + "^{tree}") == tree:
        return {"changed": False, "commit": old}
    parents = ["-p", old] if old else []
    commit = git(repo, "commit-tree", tree, *parents, "-m", message)
    git(repo, "update-ref", ref, commit)
    git(repo, "symbolic-ref", "HEAD", ref)
    return {"changed": True, "commit": commit}


def snapshot(args) -> dict:
    ensure_repo(args.repo)
    index = os.path.join(args.repo, "lab-snapshot.index")
    env = {"GIT_WORK_TREE": os.path.realpath(args.source), "GIT_INDEX_FILE": index}
    if os.path.exists(index):
        os.remove(index)
    git(args.repo, "add", "-A", "--", *args.paths, env=env)
    tree = git(args.repo, "write-tree", env=env)
    return commit_tree(args.repo, args.branch, tree, "lab snapshot of %s" % ", ".join(args.paths))


def apply_edits(target: str, edits: dict, module_dir: str) -> None:
    """The edits lab/versions.yml declares for one mirrored chart."""
    for copy in edits.get("copy") or []:
        src, dest = os.path.join(module_dir, copy["from"]), os.path.join(target, copy["to"])
        os.makedirs(dest, exist_ok=True)
        for name in sorted(os.listdir(src)):
            if name in copy.get("exclude", []) or ("only" in copy and name not in copy["only"]):
                continue
            if os.path.isfile(os.path.join(src, name)):
                shutil.copy(os.path.join(src, name), os.path.join(dest, name))
    for root, _unused, files in os.walk(target):
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    if edits.get("drop_dependencies"):
        chart = os.path.join(target, "Chart.yaml")
        with open(chart, encoding="utf-8") as handle:
            lines = handle.read().splitlines(keepends=True)
        out, skipping = [], False
        for line in lines:
            if line.startswith("dependencies:"):
                skipping = True
                continue
            if skipping and (line.startswith((" ", "-", "\t")) or not line.strip()):
                continue
            skipping = False
            out.append(line)
        with open(chart, "w", encoding="utf-8") as handle:
            handle.write("".join(out))
        lock = os.path.join(target, "Chart.lock")
        if os.path.exists(lock):
            os.remove(lock)
    for rel, pairs in (edits.get("replace") or {}).items():
        path = os.path.join(target, rel)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        for old, new in pairs:
            if old not in text:
                raise SystemExit("mirror edit: %r not found in %s" % (old, path))
            text = text.replace(old, new)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)


def mirror(args) -> dict:
    ensure_repo(args.repo)
    with open(args.manifest, encoding="utf-8") as handle:
        sources = json.load(handle)
    with tempfile.TemporaryDirectory() as work:
        for dest, entry in sorted(sources.items()):
            src = os.path.join(os.path.realpath(args.checkout), entry["src"])  # absolute stays absolute
            if not os.path.isdir(src):
                raise SystemExit("mirror source %s (for %s) does not exist" % (src, dest))
            target = os.path.join(work, dest)
            shutil.copytree(src, target, symlinks=True)
            apply_edits(target, entry.get("edits") or {}, entry.get("module_dir", ""))
        index = os.path.join(work, ".index")
        env = {"GIT_WORK_TREE": work, "GIT_INDEX_FILE": index}
        git(args.repo, "add", "-A", "-f", "--", *sorted(sources), env=env)
        tree = git(args.repo, "write-tree", env=env)
    return commit_tree(args.repo, args.branch, tree, "lab mirror of upstream charts and manifests")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    snap = sub.add_parser("snapshot")
    snap.add_argument("--source", required=True)
    snap.add_argument("--repo", required=True)
    snap.add_argument("--branch", required=True)
    snap.add_argument("--paths", nargs="+", default=["gitops"])
    mir = sub.add_parser("mirror")
    mir.add_argument("--manifest", required=True)
    mir.add_argument("--repo", required=True)
    mir.add_argument("--branch", required=True)
    mir.add_argument("--checkout", default=".", help="resolves the relative sources (lab/mirror-overlays)")
    args = parser.parse_args(argv)
    print(json.dumps(snapshot(args) if args.cmd == "snapshot" else mirror(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
