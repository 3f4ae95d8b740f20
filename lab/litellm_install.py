"""Install the LiteLLM proxy the lab runs (the image ghcr.io/berriai/litellm* maps to it).

  python3 lab/litellm_install.py ensure    # prints the install prefix (cached)

Two ways, chosen in this order:
1. The offline kit, when present: $LITELLM_OFFLINE_KIT, or litellm-offline/ in the shared folder
   beside the checkout (../shared/litellm-offline). It runs the real LiteLLM with Prisma's own query
   engine compiled to WebAssembly, for machines that cannot download Prisma's native engines.
2. Otherwise the ordinary way: a venv with litellm[proxy,extra_proxy] and prisma pinned, then
   `prisma generate`, which downloads Prisma's engines from Prisma's CDN.
Where neither works, the error says what to provide. Stdlib only (runs before the project venv).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LITELLM_VERSION = "1.108.7"
PRISMA_VERSION = "0.11.0"
# The kit's own PostgreSQL port; the lab never starts that cluster (its database is a pod).
KIT_PG_PORT = os.environ.get("LLMP_LITELLM_PG_PORT", "55433")


def cache() -> str:
    return os.environ.get("LLM_PLATFORM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "llm-platform"
    )


class InstallError(RuntimeError):
    pass


def find_kit() -> str | None:
    """The offline kit's directory, or None. A LITELLM_OFFLINE_KIT that is not a kit is an error."""
    given = os.environ.get("LITELLM_OFFLINE_KIT", "")
    if given:
        if not os.path.isfile(os.path.join(given, "setup.sh")):
            raise InstallError("LITELLM_OFFLINE_KIT=%s is not the LiteLLM offline kit (no setup.sh in it)" % given)
        return os.path.abspath(given)
    beside = os.path.abspath(os.path.join(REPO, "..", "shared", "litellm-offline"))
    return beside if os.path.isfile(os.path.join(beside, "setup.sh")) else None


def make_traversable(path: str) -> None:
    """As root, processes that run as other users (postgres, a pod's runAsUser) must be able to
    enter the cache even when it lies under root's private home: o+x on every parent."""
    if os.geteuid() != 0:
        return
    path = os.path.abspath(path)
    while path not in ("/", ""):
        mode = os.stat(path).st_mode
        if not mode & 0o001:
            os.chmod(path, mode | 0o001)
        path = os.path.dirname(path)


def _locked(prefix: str, build) -> str:
    os.makedirs(os.path.dirname(prefix), exist_ok=True)
    make_traversable(os.path.dirname(prefix))
    with open(prefix + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(prefix, ".complete")):
            build(prefix)
            open(os.path.join(prefix, ".complete"), "w").close()
    return prefix


def _kit_install(kit: str, prefix: str) -> None:
    log("installing LiteLLM %s from the offline kit %s into %s (once, ~3 min)" % (LITELLM_VERSION, kit, prefix))
    os.makedirs(prefix, exist_ok=True)
    make_traversable(prefix)
    proc = subprocess.run(["bash", os.path.join(kit, "setup.sh"), prefix, KIT_PG_PORT], check=False)
    if proc.returncode != 0:
        raise InstallError("the LiteLLM offline kit's setup.sh failed (rc=%d); see the output above" % proc.returncode)


def _pip_install(prefix: str) -> None:
    log("installing LiteLLM %s the ordinary way into %s (pip + prisma generate)" % (LITELLM_VERSION, prefix))
    venv = os.path.join(prefix, "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    pip = subprocess.run(
        [os.path.join(venv, "bin", "pip"), "install", "-q", "litellm[proxy,extra_proxy]==" + LITELLM_VERSION, "prisma==" + PRISMA_VERSION],
        check=False,
    )
    if pip.returncode != 0:
        raise InstallError("pip could not install litellm[proxy,extra_proxy]==%s (see above)" % LITELLM_VERSION)
    where = "import litellm, os; print(os.path.join(os.path.dirname(litellm.__file__), 'proxy', 'schema.prisma'))"
    schema = subprocess.run(
        [os.path.join(venv, "bin", "python"), "-c", where],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    gen = subprocess.run(
        [os.path.join(venv, "bin", "prisma"), "generate", "--schema", schema],
        cwd=os.path.dirname(schema),
        env=dict(
            os.environ,
            PATH=os.path.join(venv, "bin") + os.pathsep + os.environ.get("PATH", ""),
            PRISMA_HOME_DIR=os.path.join(prefix, "prisma-home"),
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    if gen.returncode != 0:
        last = (gen.stderr or gen.stdout).strip().splitlines()[-3:]
        raise InstallError(
            "LiteLLM %s is installed, but `prisma generate` could not fetch Prisma's engines (%s). This machine cannot "
            "download them: provide the LiteLLM offline kit, either with LITELLM_OFFLINE_KIT=/path/to/litellm-offline "
            "or at %s" % (LITELLM_VERSION, " | ".join(last), os.path.abspath(os.path.join(REPO, "..", "shared", "litellm-offline")))
        )
    with open(os.path.join(prefix, "env.sh"), "w", encoding="utf-8") as handle:
        handle.write("# Written by lab/litellm_install.py (ordinary install: Prisma's native engines).\n")
        handle.write('export PRISMA_HOME_DIR="%s"\n' % os.path.join(prefix, "prisma-home"))
        handle.write("export LITELLM_LOCAL_MODEL_COST_MAP=True\n")


def ensure() -> str:
    """The install prefix (venv/, env.sh), installing it once."""
    kit = find_kit()
    if kit:
        return _locked(os.path.join(cache(), "litellm-offline", LITELLM_VERSION), lambda p: _kit_install(kit, p))
    prefix = os.path.join(cache(), "litellm", LITELLM_VERSION)
    try:
        return _locked(prefix, _pip_install)
    except InstallError:
        raise
    except (OSError, subprocess.CalledProcessError) as exc:
        raise InstallError("installing LiteLLM %s failed: %s" % (LITELLM_VERSION, exc)) from exc


def log(msg: str) -> None:
    print("==> " + msg, file=sys.stderr, flush=True)


if __name__ == "__main__":
    if sys.argv[1:] != ["ensure"]:
        raise SystemExit("usage: litellm_install.py ensure")
    try:
        print(ensure())
    except InstallError as exc:
        raise SystemExit("ERROR: %s" % exc) from None
