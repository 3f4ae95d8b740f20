"""Point a fork at its own repository, everywhere the repository URL is written.

    python scripts/fork.py https://github.com/acme/llm-platform.git   # make fork REPO=...

The git URL is where Argo CD reads gitops/ from: platform_repo_url (group_vars/all/platform.yml)
and repo.url of the app-of-apps (gitops/app-of-apps/values.yaml). galaxy.yml's repository,
homepage, documentation and issues links are derived from it (https://<host>/<org>/<repo>,
.../tree/<revision>/docs, .../issues; GitLab: .../-/tree, .../-/issues). Each file is edited in
place, line by line, so comments and layout stay. tests/unit/test_galaxy.py checks they agree.
"""

from __future__ import annotations

import os
import re
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GALAXY = "galaxy.yml"
PLATFORM = "group_vars/all/platform.yml"
VALUES = "gitops/app-of-apps/values.yaml"
_SSH = re.compile(r"^(?:ssh://)?git@([^:/]+)[:/](.+)$")
_HTTP = re.compile(r"^https://([^/]+)/(.+)$")


def web_url(git_url):
    """https://<host>/<path> of a git URL (https or ssh form), without .git."""
    url = git_url.strip()
    found = _SSH.match(url) or _HTTP.match(url)
    if not found:
        raise ValueError("REPO: got %r; allowed: https://<host>/<org>/<repo>[.git] or git@<host>:<org>/<repo>[.git]" % git_url)
    host, path = found.group(1), found.group(2).rstrip("/")
    path = path[:-4] if path.endswith(".git") else path
    if path.count("/") < 1 or not all(path.split("/")):
        raise ValueError("REPO: got %r; allowed: a URL naming <org>/<repo>" % git_url)
    return "https://%s/%s" % (host, path)


def galaxy_links(git_url, revision="main"):
    """The four galaxy.yml links for the fork at ``git_url``."""
    web = web_url(git_url)
    dash = "/-" if "gitlab" in web.split("/")[2] else ""
    return {
        "repository": web,
        "homepage": web,
        "documentation": "%s%s/tree/%s/docs" % (web, dash, revision),
        "issues": "%s%s/issues" % (web, dash),
    }


def _rewrite(path, pattern, replacement):
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    new, count = re.subn(pattern, replacement, text, flags=re.M)
    if count != 1:
        raise SystemExit("%s: expected exactly one line matching %s, found %d" % (path, pattern, count))
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(new)


def fork(root, git_url):
    web_url(git_url)  # validate before touching anything
    with open(os.path.join(root, PLATFORM), encoding="utf-8") as fh:
        revision = (yaml.safe_load(fh) or {}).get("platform_repo_revision") or "main"
    for key, value in galaxy_links(git_url, revision).items():
        _rewrite(os.path.join(root, GALAXY), r"^%s: .*$" % key, "%s: %s" % (key, value))
    _rewrite(os.path.join(root, PLATFORM), r"^platform_repo_url: .*$", "platform_repo_url: %s" % git_url)
    # repo.url is the only `url:` two spaces in under the top-level `repo:` key.
    with open(os.path.join(root, VALUES), encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    start = lines.index("repo:")
    for i in range(start + 1, len(lines)):
        if not lines[i].startswith(" "):
            raise SystemExit("%s: no url under repo:" % VALUES)
        if lines[i].startswith("  url: "):
            lines[i] = "  url: %s" % git_url
            break
    with open(os.path.join(root, VALUES), "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))


def main(argv):
    if len(argv) != 1 or not argv[0]:
        print("usage: make fork REPO=<git URL of your fork>, e.g. https://github.com/acme/llm-platform.git", file=sys.stderr)
        return 2
    try:
        fork(REPO, argv[0])
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print("platform_repo_url, the app-of-apps repo.url and galaxy.yml's links now point at %s" % web_url(argv[0]))
    print("commit and push, then converge: Argo CD reads gitops/ from there")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
