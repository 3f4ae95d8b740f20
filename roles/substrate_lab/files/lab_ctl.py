#!/usr/bin/env python
"""Status and teardown helper of the substrate_lab role (stdlib only; prints JSON).

  lab_ctl.py status    --state-dir D --netns N --name C --port P --kubeconfig K --kubectl B
  lab_ctl.py port-free --port P
  lab_ctl.py stop      --state-dir D --netns N --name C --kwokctl B
  lab_ctl.py alive     --state-dir D --pidfile F   (is the process of that pid file ours and alive)
  lab_ctl.py lock      --state-dir D --token T [--timeout S]
  lab_ctl.py unlock    --state-dir D --token T

`stop` ends every process the lab started, by PID: first `kwokctl delete cluster` inside the
namespace (it kills the components from their pid files), then the two bridge processes from
their pid files, then any process still inside the namespace (`ip netns pids`), and finally
deletes the namespace. It reports {"changed": bool, ...}.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not alive.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def _ours(pid: int, state_dir: str) -> bool:
    """The process is alive and its command line names the lab's state directory (every lab
    process does: kwok runs the binaries from its cluster dir, the bridges get their pid
    files there). A stale pid file after a reboot never makes us signal a stranger."""
    if not _alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return os.path.abspath(state_dir).encode() in fh.read()
    except OSError:
        return False


def _read_pid(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return None


def _netns_exists(name: str) -> bool:
    return os.path.exists(f"/run/netns/{name}")


def _pid_files(args) -> dict[str, str]:
    files = {}
    cluster = os.path.join(args.state_dir, "kwok", "clusters", args.name, "pids")
    for path in sorted(glob.glob(os.path.join(cluster, "*.pid"))):
        files[os.path.basename(path)[:-4]] = path
    for proc in ("bridge-inner", "bridge-host", "runtime", "git-daemon"):
        files[proc] = os.path.join(args.state_dir, f"{proc}.pid")
    return files


def status(args) -> dict:
    out = {"netns": _netns_exists(args.netns), "processes": {}, "ready": False}
    for comp, path in _pid_files(args).items():
        pid = _read_pid(path)
        out["processes"][comp] = bool(pid and _ours(pid, args.state_dir))
    if os.path.exists(args.kubeconfig) and out["processes"].get("bridge-host"):
        proc = subprocess.run(
            [args.kubectl, "--kubeconfig", args.kubeconfig, "--request-timeout=5s", "get", "--raw", "/readyz"],
            capture_output=True,
            text=True,
            check=False,
        )
        out["ready"] = proc.returncode == 0 and proc.stdout.strip() == "ok"
    wanted = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller", "bridge-inner", "bridge-host")
    out["healthy"] = out["netns"] and out["ready"] and all(out["processes"].get(c) for c in wanted)
    # The pod runtime is restarted on its own (its pods restart with it); the control plane stays.
    out["runtime"] = bool(out["processes"].get("runtime"))
    try:
        with open(os.path.join(args.state_dir, "runtime", "recipe"), encoding="ascii") as fh:
            out["runtime_recipe"] = fh.read().strip()
    except OSError:
        out["runtime_recipe"] = ""
    out["exists"] = (
        out["netns"] or any(out["processes"].values()) or os.path.isdir(os.path.join(args.state_dir, "kwok", "clusters", args.name))
    )
    return out


def stop_runtime(args) -> dict:
    """Stop the pod runtime when it was started from another recipe (images.yml + versions.yml)."""
    pid = _read_pid(os.path.join(args.state_dir, "runtime.pid"))
    if not (pid and _ours(pid, args.state_dir)):
        return {"changed": False}
    try:
        with open(os.path.join(args.state_dir, "runtime", "recipe"), encoding="ascii") as fh:
            if fh.read().strip() == args.recipe:
                return {"changed": False}
    except OSError:
        pass
    _terminate([pid], timeout=45.0)
    return {"changed": True}


def alive(args) -> dict:
    pid = _read_pid(args.pidfile)
    return {"alive": bool(pid and _ours(pid, args.state_dir))}


def port_free(args) -> dict:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Same options as the bridge's listener: TIME_WAIT leftovers of a lab that just stopped do
    # not count, a live listener does.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", args.port))
    except OSError as exc:
        return {"free": False, "reason": str(exc)}
    finally:
        sock.close()
    return {"free": True}


def _terminate(pids: list[int], timeout: float = 15.0) -> list[int]:
    pids = [p for p in pids if p and p != os.getpid() and _alive(p)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    return pids


def stop(args) -> dict:
    result = {"changed": False, "killed": [], "kwokctl": None}
    workdir = os.path.join(args.state_dir, "kwok")
    cluster_dir = os.path.join(workdir, "clusters", args.name)
    # Drop pid files that do not name a lab process, so neither kwokctl nor we signal a stranger.
    for path in _pid_files(args).values():
        pid = _read_pid(path)
        if os.path.exists(path) and not (pid and _ours(pid, args.state_dir)):
            os.unlink(path)
    # The pod runtime first: it stops every backed pod within its grace period and unmounts
    # the tmpfs that holds their secrets.
    runtime_pid = _read_pid(os.path.join(args.state_dir, "runtime.pid"))
    if runtime_pid and _ours(runtime_pid, args.state_dir):
        result["killed"] += _terminate([runtime_pid], timeout=45.0)
        result["changed"] = True
    tmpfs = os.path.join(args.state_dir, "runtime", "tmpfs")
    if os.path.ismount(tmpfs):
        subprocess.run(["umount", "-l", tmpfs], check=False)
    if os.path.isdir(cluster_dir):
        cmd = [args.kwokctl, "delete", "cluster", "--name", args.name]
        if _netns_exists(args.netns):
            cmd = ["ip", "netns", "exec", args.netns, *cmd]
        env = dict(os.environ, KWOK_WORKDIR=workdir)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=120)
        result["kwokctl"] = {"rc": proc.returncode, "stderr": proc.stderr[-2000:]}
        result["changed"] = True
    pids = []
    for path in _pid_files(args).values():
        pid = _read_pid(path)
        if pid and _ours(pid, args.state_dir):
            pids.append(pid)
    if _netns_exists(args.netns):
        proc = subprocess.run(["ip", "netns", "pids", args.netns], capture_output=True, text=True, check=False)
        pids += [int(p) for p in proc.stdout.split() if p.isdigit()]
    killed = _terminate(sorted(set(pids)))
    result["killed"] += killed
    result["changed"] = result["changed"] or bool(killed)
    for path in _pid_files(args).values():
        if os.path.exists(path):
            os.unlink(path)
    sock = os.path.join(args.state_dir, "apiserver.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    if _netns_exists(args.netns):
        proc = subprocess.run(["ip", "netns", "del", args.netns], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            result["error"] = f"ip netns del {args.netns}: {proc.stderr.strip()}"
        result["changed"] = True
    return result


LOCK_STALE_SECONDS = 900


def lock(args) -> dict:
    """Serialise runs on one lab (two shells starting the same lab would race): an atomic
    mkdir beside the state dir. A lock older than 15 minutes is taken to be left by a dead run."""
    path = os.path.abspath(args.state_dir) + ".lock"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            os.mkdir(path)
        except FileExistsError:
            try:
                if time.time() - os.stat(path).st_mtime > LOCK_STALE_SECONDS:
                    _unlock_dir(path)
                    continue
            except FileNotFoundError:
                continue
            if time.monotonic() > deadline:
                return {"acquired": False, "error": f"another run holds {path} (wait for it, or remove the directory)"}
            time.sleep(1)
            continue
        with open(os.path.join(path, "token"), "w", encoding="ascii") as fh:
            fh.write(args.token)
        return {"acquired": True, "changed": False}


def _unlock_dir(path: str) -> None:
    for name in os.listdir(path):
        os.unlink(os.path.join(path, name))
    os.rmdir(path)


def unlock(args) -> dict:
    path = os.path.abspath(args.state_dir) + ".lock"
    try:
        with open(os.path.join(path, "token"), encoding="ascii") as fh:
            if fh.read() != args.token:
                return {"released": False}
        _unlock_dir(path)
    except FileNotFoundError:
        return {"released": False}
    return {"released": True}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["status", "port-free", "stop", "lock", "unlock", "alive", "stop-runtime"])
    parser.add_argument("--state-dir")
    parser.add_argument("--netns")
    parser.add_argument("--name")
    parser.add_argument("--port", type=int)
    parser.add_argument("--kubeconfig", default="")
    parser.add_argument("--kubectl", default="kubectl")
    parser.add_argument("--kwokctl", default="kwokctl")
    parser.add_argument("--token", default="")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--pidfile", default="")
    parser.add_argument("--recipe", default="")
    args = parser.parse_args(argv)
    commands = {
        "status": status,
        "port-free": port_free,
        "stop": stop,
        "lock": lock,
        "unlock": unlock,
        "alive": alive,
        "stop-runtime": stop_runtime,
    }
    out = commands[args.command](args)
    print(json.dumps(out, sort_keys=True))
    return 1 if out.get("error") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
