"""A real LiteLLM 1.108.7 + PostgreSQL (the shared offline kit) inside the bench test namespace.

The kit allows one proxy per install prefix, and other suites run the shared install
($LLM_PLATFORM_CACHE/litellm-offline/1.108.7) on the host. This stack reuses that install's venv,
engine stand-in and Prisma home (read-only, through symlinks) with its own PostgreSQL cluster
and proxy under a prefix of its own, all inside the bench namespace (127.0.0.1 there)."""

from __future__ import annotations

import os
import shutil
import sys

import benchkit

sys.path.insert(0, os.path.join(benchkit.REPO, "tests", "integration", "litellm"))

import litellm_offline  # the one installer of the shared kit

VERSION = litellm_offline.VERSION
PG_BIN = litellm_offline.PG_BIN
kit_dir = litellm_offline.kit_dir


def shared_prefix() -> str:
    """The shared install, installed on first use by the same code as the tenancy tests: it makes
    the cache's parents traversable for the postgres user first (a fresh /root is 0700)."""
    return litellm_offline.install()


class Stack:
    def __init__(self, ns: benchkit.Netns, port: int, pg_port: int, config_yaml: str, master_key: str):
        self.ns, self.port, self.pg_port, self.master_key = ns, port, pg_port, master_key
        self.url = "http://127.0.0.1:%d" % port
        src = shared_prefix()
        self.prefix = os.path.join(benchkit.CACHE, "bench-litellm", "%s-%d" % (ns.name, port))
        shutil.rmtree(self.prefix, ignore_errors=True)
        os.makedirs(os.path.join(self.prefix, "pg"))
        litellm_offline.make_traversable(self.prefix)  # postgres enters the prefix
        for d in ("venv", "engine-shim", "prisma-home"):
            os.symlink(os.path.join(src, d), os.path.join(self.prefix, d))
        with open(os.path.join(src, "env.sh"), encoding="utf-8") as fh:
            env_sh = fh.read().replace(src, self.prefix).replace("55433", str(pg_port))
        env_sh = env_sh.replace(os.path.join(self.prefix, "prisma-home"), os.path.join(src, "prisma-home"))
        with open(os.path.join(self.prefix, "env.sh"), "w", encoding="utf-8") as fh:
            fh.write(env_sh)
        self.config = os.path.join(self.prefix, "config.yaml")
        with open(self.config, "w", encoding="utf-8") as fh:
            fh.write(config_yaml)
        self.db_url = "postgresql://litellm:litellm@127.0.0.1:%d/litellm" % pg_port

    def _pg(self, *argv, check=True):
        return self.ns.run(["runuser", "-u", "postgres", "--", *argv], check=check, capture_output=True, text=True)

    def start(self):
        pg = os.path.join(self.prefix, "pg")
        shutil.chown(pg, "postgres", "postgres")
        self._pg(os.path.join(PG_BIN, "initdb"), "-D", pg + "/data", "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self._pg(
            os.path.join(PG_BIN, "pg_ctl"),
            "-D",
            pg + "/data",
            "-l",
            pg + "/server.log",
            "-o",
            "-c listen_addresses=127.0.0.1 -p %d -k %s" % (self.pg_port, pg),
            "-w",
            "start",
        )
        psql = ["psql", "-q", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres"]
        self.ns.run(
            [*psql, "-c", "CREATE USER litellm WITH PASSWORD 'litellm'", "-c", "CREATE DATABASE litellm OWNER litellm"],
            check=True,
            capture_output=True,
        )
        self.ns.run(
            ["bash", os.path.join(kit_dir(), "apply_migrations.sh"), self.db_url, os.path.join(self.prefix, "venv", "bin", "python")],
            check=True,
            capture_output=True,
        )
        env = dict(os.environ, LITELLM_MASTER_KEY=self.master_key, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        r = self.ns.run(
            ["bash", os.path.join(kit_dir(), "start.sh"), self.prefix, self.config, str(self.port)], env=env, capture_output=True, text=True
        )
        if r.returncode != 0:
            raise RuntimeError("LiteLLM did not start: %s\n%s" % (r.stderr[-3000:], self.log_tail()))
        return self

    def log_tail(self, n=3000) -> str:
        try:
            with open(os.path.join(self.prefix, "proxy.log"), "rb") as fh:
                return fh.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        keep = os.environ.get("LITELLM_STACK_KEEP_LOGS")  # a directory: keep the proxy log for a post-mortem
        if keep:
            os.makedirs(keep, exist_ok=True)
            for name in ("proxy.log", "pg/server.log"):
                src = os.path.join(self.prefix, name)
                if os.path.exists(src):
                    shutil.copy(src, os.path.join(keep, "%s-%s" % (os.path.basename(self.prefix), name.replace("/", "-"))))
        self.ns.run(["bash", os.path.join(kit_dir(), "stop.sh"), self.prefix], check=False, capture_output=True)
        shutil.rmtree(self.prefix, ignore_errors=True)  # its own PostgreSQL data; the shared install stays

    def api(self, method: str, path: str, body: str | None = None, key: str | None = None) -> tuple[int, str]:
        argv = [
            "curl",
            "-s",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "-X",
            method,
            "-H",
            "Authorization: Bearer %s" % (key or self.master_key),
            "-H",
            "Content-Type: application/json",
            "--max-time",
            "30",
            self.url + path,
        ]
        if body is not None:
            argv += ["-d", body]
        r = self.ns.run(argv, capture_output=True, text=True)
        out, _, code = r.stdout.rpartition("\n")
        return int(code or 0), out
