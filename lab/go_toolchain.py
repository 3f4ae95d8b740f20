"""Provision the Go toolchain the lab builds with, from the Go module proxy.

  python3 lab/go_toolchain.py ensure   # prints the GOROOT/bin to put first on PATH

A machine whose `go` is missing or older than lab/versions.yml `go.min_version` gets the pinned
toolchain module `golang.org/toolchain@v0.0.1-go<version>.<os>-<arch>` (what GOTOOLCHAIN
switching itself downloads), verified against the pinned go.sum hash (`h1:`, Go's dirhash)
before anything in it runs. Stdlib only: this runs before any venv or Go exists.
"""

from __future__ import annotations

import base64
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("LLM_PLATFORM_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "llm-platform"
)


def pins() -> dict:
    """The `go:` block of versions.yml, read without PyYAML (flat `key: value` lines)."""
    out, inside = {}, False
    with open(os.path.join(HERE, "versions.yml"), encoding="utf-8") as handle:
        for line in handle:
            if re.match(r"^go:\s*$", line):
                inside = True
                continue
            if inside and re.match(r"^\S", line):
                break
            m = re.match(r'^\s+(\w+):\s*"?([^"#]+?)"?\s*(#.*)?$', line)
            if inside and m:
                out[m.group(1)] = m.group(2)
    return out


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def local_go_version() -> str | None:
    go = shutil.which("go")
    if not go:
        return None
    proc = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False, env=dict(os.environ, GOTOOLCHAIN="local"))
    return proc.stdout.strip().removeprefix("go") if proc.returncode == 0 else None


def dirhash_h1(zip_path: str) -> str:
    """Go's dirhash.Hash1 over a module zip: sha256 of the sorted '<sha256>  <name>' lines."""
    lines = []
    with zipfile.ZipFile(zip_path) as zf:
        for name in sorted(zf.namelist()):
            if name.endswith("/"):
                continue
            lines.append("%s  %s\n" % (hashlib.sha256(zf.read(name)).hexdigest(), name))
    return "h1:" + base64.b64encode(hashlib.sha256("".join(lines).encode()).digest()).decode()


def proxy_base() -> str:
    for entry in re.split(r"[,|]", os.environ.get("GOPROXY", "") or "https://proxy.golang.org"):
        if entry.startswith("https://"):
            return entry.rstrip("/")
    raise SystemExit("ERROR: GOPROXY has no https module proxy to fetch the Go toolchain from (set GOPROXY)")


def ensure() -> str:
    pin = pins()
    need, want, want_sum = pin["min_version"], pin["toolchain"], pin["toolchain_sum"]
    have = local_go_version()
    if have and version_tuple(have) >= version_tuple(need):
        return os.path.dirname(os.path.realpath(shutil.which("go")))
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    module_version = "v0.0.1-go%s.linux-%s" % (want, arch)
    root = os.path.join(CACHE, "go", "toolchain", "go" + want)
    if os.path.isfile(os.path.join(root, ".complete")):
        return os.path.join(root, "bin")
    why = "Go %s is older than the %s lab/versions.yml needs" % (have, need) if have else "no go on PATH"
    print("==> %s: fetching the pinned Go %s toolchain from the module proxy" % (why, want), file=sys.stderr)
    os.makedirs(os.path.dirname(root), exist_ok=True)
    url = "%s/golang.org/toolchain/@v/%s.zip" % (proxy_base(), module_version)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(root)) as tmp:
        zip_path = os.path.join(tmp, "toolchain.zip")
        with urllib.request.urlopen(url, timeout=600) as resp, open(zip_path, "wb") as out:  # noqa: S310 - the Go module proxy
            shutil.copyfileobj(resp, out)
        got = dirhash_h1(zip_path)
        if got != want_sum:
            raise SystemExit("ERROR: %s has hash %s, lab/versions.yml pins %s: refusing to use it" % (url, got, want_sum))
        prefix = "golang.org/toolchain@%s/" % module_version
        with zipfile.ZipFile(zip_path) as zf:
            for info in zf.infolist():
                if not info.filename.startswith(prefix) or info.filename.endswith("/"):
                    continue
                dest = os.path.join(tmp, "go", info.filename[len(prefix) :])
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                mode = (info.external_attr >> 16) & 0o777
                os.chmod(dest, mode or 0o644)
        shutil.rmtree(root, ignore_errors=True)
        os.rename(os.path.join(tmp, "go"), root)
    open(os.path.join(root, ".complete"), "w").close()
    return os.path.join(root, "bin")


if __name__ == "__main__":
    if sys.argv[1:] == ["ensure"]:
        print(ensure())
    elif sys.argv[1:2] == ["dirhash"]:
        print(dirhash_h1(sys.argv[2]))
    else:
        raise SystemExit("usage: go_toolchain.py ensure | dirhash ZIP")
