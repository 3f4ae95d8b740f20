"""A container's filesystem and identity, then exec: run by the pod runtime as
`unshare --mount --uts --propagation private -- python sandbox.py SPEC.json`.

In its private mount namespace it builds the container root as an overlay of the image layer
(images.yml `files`) over the host root, with a throw-away upper directory on tmpfs, so the
container may create /app/config or /var/run/secrets without touching the host. Then it mounts
/proc, /sys (read-only), /dev, the pod's /etc/hosts, /etc/resolv.conf, /etc/hostname and every
volume at its mountPath (subPath, readOnly honoured), makes the named host paths traversable
inside the container only, chroots, hands its bind(2) calls to the runtime (bindfix.py: a
wildcard bind lands on the pod IP), drops to the container's user and groups, and execs.
Stdlib only; everything it mounts disappears with the namespace when the container exits.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

import bindfix

libc = ctypes.CDLL(None, use_errno=True)
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC = 1, 32, 4096, 16384
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
# containerd's default capability set: what a container has unless its securityContext says.
CAPS = {
    "CHOWN": 0,
    "DAC_OVERRIDE": 1,
    "DAC_READ_SEARCH": 2,
    "FOWNER": 3,
    "FSETID": 4,
    "KILL": 5,
    "SETGID": 6,
    "SETUID": 7,
    "SETPCAP": 8,
    "LINUX_IMMUTABLE": 9,
    "NET_BIND_SERVICE": 10,
    "NET_BROADCAST": 11,
    "NET_ADMIN": 12,
    "NET_RAW": 13,
    "IPC_LOCK": 14,
    "IPC_OWNER": 15,
    "SYS_MODULE": 16,
    "SYS_RAWIO": 17,
    "SYS_CHROOT": 18,
    "SYS_PTRACE": 19,
    "SYS_PACCT": 20,
    "SYS_ADMIN": 21,
    "SYS_BOOT": 22,
    "SYS_NICE": 23,
    "SYS_RESOURCE": 24,
    "SYS_TIME": 25,
    "SYS_TTY_CONFIG": 26,
    "MKNOD": 27,
    "LEASE": 28,
    "AUDIT_WRITE": 29,
    "AUDIT_CONTROL": 30,
    "SETFCAP": 31,
}
DEFAULT_CAPS = {
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
}


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def kept_capabilities(caps: dict) -> set[int]:
    """The capability numbers a container keeps: containerd's defaults, minus `drop` (ALL drops
    every one), plus `add` (securityContext.capabilities; names with or without CAP_)."""

    def names(key):
        return {n.upper().removeprefix("CAP_") for n in caps.get(key) or []}

    drop, add = names("drop"), names("add")
    kept = set() if "ALL" in drop else DEFAULT_CAPS - drop
    return {CAPS[n] for n in (kept | add) if n in CAPS}


def drop_bounding(caps: dict) -> None:
    """Drop what the container may not have from the bounding set: while still root (it needs
    CAP_SETPCAP), before the switch to the container's user."""
    keep = kept_capabilities(caps)
    for cap in range(64):
        if cap not in keep and libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != 22:  # EINVAL: no such cap
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP, %d)" % cap)


def restrict(caps: dict, no_new_privs: bool) -> None:
    """After the switch of user: a process still root keeps only its capabilities in its
    effective/permitted sets (another user has none left); no ambient capabilities;
    no_new_privs for allowPrivilegeEscalation false."""
    keep = kept_capabilities(caps)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    if os.getuid() == 0:
        mask = sum(1 << c for c in keep)
        data = (_CapData * 2)(_CapData(mask & 0xFFFFFFFF, mask & 0xFFFFFFFF, 0), _CapData(mask >> 32, mask >> 32, 0))
        if libc.capset(ctypes.byref(_CapHeader(0x20080522, 0)), data) != 0:
            raise OSError(ctypes.get_errno(), "capset")
    if no_new_privs and libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")


def mount(source: str, target: str, fstype: str | None = None, flags: int = 0, data: str | None = None) -> None:
    rc = libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags, data.encode() if data else None)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, "mount %s on %s (%s): %s" % (source, target, fstype or "bind", os.strerror(err)))


def bind(source: str, target: str, readonly: bool = False, recursive: bool = False) -> None:
    mount(source, target, None, MS_BIND | (MS_REC if recursive else 0))
    if readonly:
        mount(source, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY)


def in_root(root: str, path: str, depth: int = 0) -> str:
    """`path` resolved inside `root` the way the chrooted process will see it: symlinks are
    followed relative to root (an absolute link restarts at root), never into the host."""
    if depth > 40:
        raise OSError(40, "too many symlinks resolving %s" % path)
    current = root
    parts = [p for p in path.split("/") if p and p != "."]
    for i, part in enumerate(parts):
        if part == "..":
            current = os.path.dirname(current) if current != root else root
            continue
        candidate = os.path.join(current, part)
        if os.path.islink(candidate):
            target = os.readlink(candidate)
            rest = "/".join(parts[i + 1 :])
            base = target if target.startswith("/") else os.path.join(current[len(root) :] or "/", target)
            return in_root(root, base + ("/" + rest if rest else ""), depth + 1)
        current = candidate
    return current


def ensure_target(path: str, is_dir: bool) -> None:
    if is_dir:
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if not os.path.exists(path):
            open(path, "a").close()


SKIP = {"proc", "sys", "dev", "tmp", "lost+found"}


def overlay(lowers: list[str], target: str, scratch: str, name: str) -> None:
    upper, work = os.path.join(scratch, "u-" + name), os.path.join(scratch, "w-" + name)
    os.mkdir(upper)
    os.mkdir(work)
    os.makedirs(target, exist_ok=True)
    mount("overlay", target, "overlay", 0, "lowerdir=%s,upperdir=%s,workdir=%s" % (":".join(lowers), upper, work))


def build_root(spec: dict) -> str:
    """A tmpfs root holding one overlay per top-level directory of the host (image layer over
    host directory, upper on the tmpfs). One overlay over "/" itself is not possible: the image
    layers and the scratch directory live below "/", and overlayfs refuses overlapping layers."""
    base = spec["scratch"]
    mount("tmpfs", base, "tmpfs", 0, "mode=0755")
    root = os.path.join(base, "root")
    os.mkdir(root)
    layers = spec.get("layers", [])
    tops = set()
    for layer in layers:
        tops.update(e for e in os.listdir(layer) if not e.startswith(".") and os.path.isdir(os.path.join(layer, e)))
    for entry in sorted(os.listdir("/")):
        host = os.path.join("/", entry)
        if entry in SKIP:
            os.makedirs(os.path.join(root, entry), exist_ok=True)
        elif os.path.islink(host):
            os.symlink(os.readlink(host), os.path.join(root, entry))
        elif os.path.isdir(host):
            lowers = [os.path.join(layer, entry) for layer in layers if os.path.isdir(os.path.join(layer, entry))]
            overlay([*lowers, host], os.path.join(root, entry), base, entry)
    for entry in sorted(tops - set(os.listdir("/"))):
        lowers = [os.path.join(layer, entry) for layer in layers if os.path.isdir(os.path.join(layer, entry))]
        overlay(lowers, os.path.join(root, entry), base, entry)
    for layer in layers:  # files at the image's root (distroless images keep /manager there)
        for entry in sorted(os.listdir(layer)):
            source = os.path.join(layer, entry)
            if not entry.startswith(".") and os.path.isfile(source):
                ensure_target(os.path.join(root, entry), is_dir=False)
                bind(source, os.path.join(root, entry), readonly=True)
    bind("/proc", os.path.join(root, "proc"), recursive=True)
    bind("/sys", os.path.join(root, "sys"), readonly=True, recursive=True)
    bind("/dev", os.path.join(root, "dev"), recursive=True)
    tmp = os.path.join(root, "tmp")
    mount("tmpfs", tmp, "tmpfs", 0, "mode=1777")
    for m in spec.get("mounts", []):
        target = in_root(root, m["path"])
        is_dir = os.path.isdir(m["source"])
        ensure_target(target, is_dir)
        bind(m["source"], target, readonly=m.get("readOnly", False))
    for path in spec.get("traverse", []):
        parts = [p for p in path.split("/") if p]
        for n in range(1, len(parts) + 1):
            walk = in_root(root, "/" + "/".join(parts[:n]))
            if os.path.isdir(walk) and not os.stat(walk).st_mode & 0o001:
                os.chmod(walk, os.stat(walk).st_mode | 0o001)
    return root


def main(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    root = build_root(spec)
    if spec.get("hostname"):
        name = spec["hostname"].encode()
        if libc.sethostname(name, len(name)) != 0:
            raise OSError(ctypes.get_errno(), "sethostname")
    os.chroot(root)
    os.chdir(spec.get("workdir") or "/")
    uid, gid = spec.get("uid"), spec.get("gid")
    groups = spec.get("groups", [])
    if spec.get("bindfix_fd") is not None:
        bindfix.install_filter(spec["bindfix_fd"])  # as root, before dropping privileges
    drop_bounding(spec.get("capabilities") or {})
    if uid is not None:
        os.setgroups(groups)
        os.setgid(gid if gid is not None else uid)
        os.setuid(uid)
    restrict(spec.get("capabilities") or {}, bool(spec.get("no_new_privs")))
    os.umask(0o022)
    env = spec["env"]
    argv = spec["argv"]
    try:
        os.execvpe(argv[0], argv, env)  # noqa: S606 - the container's own command, as the kubelet runs it
    except OSError as exc:
        print("lab runtime: cannot exec %r in the container: %s" % (argv[0], exc), file=sys.stderr)
        os._exit(127)


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except OSError as exc:
        print("lab runtime: container setup failed: %s" % exc, file=sys.stderr)
        os._exit(126)
