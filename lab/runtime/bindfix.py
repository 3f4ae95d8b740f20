"""Each backed pod gets its own addresses in the shared namespace (seccomp user notification).

In a real cluster each pod has its own network namespace: programs bind 0.0.0.0, [::] or
127.0.0.1 and never collide, and 127.0.0.1 reaches only the pod itself. In the lab all pods
share one loopback-only namespace, where those binds collide with every other listener on the
port (other pods, the Service proxy on the ClusterIPs). So the sandbox installs a seccomp
filter that hands each bind(2) and connect(2) to the runtime (SECCOMP_RET_USER_NOTIF), which
- bind to the wildcard (0.0.0.0, [::]) or to 127.0.0.1: binds the caller's own socket (taken
  with pidfd_getfd) to the pod IP instead (::ffff:<pod IP> on IPv6 dual-stack sockets) and
  answers with bind's result, remembering the port as the pod's; an IPv6-only wildcard socket
  gets EADDRNOTAVAIL (pods have no IPv6 address);
- connect to 127.0.0.1, 0.0.0.0, ::1 or :: on one of the pod's ports: connects to
  <pod IP>:<port> instead, so a program that talks to itself (Argo CD's repo-server health
  check dials localhost, controller-runtime's webhook readiness check dials ":9443") reaches
  its own listener;
- connect to any address outside loopback: refuses it (ENETUNREACH, as an unroutable address
  would be) and records it as a safety violation (state.json `violations`, which tests/integration/living asserts stays empty);
- anything else (another loopback address, a Unix socket, a connect to 127.0.0.1 on a port the
  pod does not own, such as the API server's): lets the kernel run the call unchanged.
Programs run unmodified. x86_64 only (syscall numbers and audit arch below).

install_filter() runs in the sandbox (as root, before privileges are dropped); Supervisor runs
in the runtime.
"""

from __future__ import annotations

import ctypes
import errno
import ipaddress
import os
import select
import socket
import struct
import threading

libc = ctypes.CDLL(None, use_errno=True)

AUDIT_ARCH_X86_64 = 0xC000003E
NR_BIND = 49
NR_CONNECT = 42
NR_SECCOMP = 317
NR_PIDFD_GETFD = 438
SECCOMP_SET_MODE_FILTER = 1
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_USER_NOTIF = 0x7FC00000
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1
IOCTL_NOTIF_RECV = 0xC0502100
IOCTL_NOTIF_SEND = 0xC0182101
IOCTL_NOTIF_ID_VALID = 0x40082102
LOOPBACK4 = socket.inet_aton("127.0.0.1")
MAPPED_LOOPBACK4 = socket.inet_pton(socket.AF_INET6, "::ffff:127.0.0.1")
# What a program dials to reach itself: loopback, or the unspecified address (Go dials ":port"
# as [::]:port), in both families.
SELF6 = {socket.inet_pton(socket.AF_INET6, a) for a in ("::", "::1", "::ffff:127.0.0.1", "::ffff:0.0.0.0")}


def _bpf(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def _program() -> bytes:
    ld_w_abs, jeq_k, ret_k = 0x20, 0x15, 0x06
    return b"".join(
        [
            _bpf(ld_w_abs, 0, 0, 4),  # seccomp_data.arch
            _bpf(jeq_k, 1, 0, AUDIT_ARCH_X86_64),
            _bpf(ret_k, 0, 0, SECCOMP_RET_ALLOW),  # not x86_64: leave alone
            _bpf(ld_w_abs, 0, 0, 0),  # seccomp_data.nr
            _bpf(jeq_k, 1, 0, NR_BIND),
            _bpf(jeq_k, 0, 1, NR_CONNECT),
            _bpf(ret_k, 0, 0, SECCOMP_RET_USER_NOTIF),
            _bpf(ret_k, 0, 0, SECCOMP_RET_ALLOW),
        ]
    )


def install_filter(channel_fd: int) -> None:
    """Install the filter and send its notification fd over the Unix socket channel_fd."""
    if os.geteuid() != 0:
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # required for seccomp without CAP_SYS_ADMIN
    prog = _program()
    buf = ctypes.create_string_buffer(prog)
    fprog = struct.pack("HxxxxxxQ", len(prog) // 8, ctypes.addressof(buf))
    fbuf = ctypes.create_string_buffer(fprog)
    libc.syscall.restype = ctypes.c_long
    listener = libc.syscall(NR_SECCOMP, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, fbuf)
    if listener < 0:
        err = ctypes.get_errno()
        raise OSError(err, "seccomp(SET_MODE_FILTER): %s" % os.strerror(err))
    chan = socket.socket(fileno=channel_fd)
    socket.send_fds(chan, [b"L"], [listener])
    chan.close()
    os.close(listener)


class Supervisor:
    """Answers the bind(2)/connect(2) notifications of one container. `ports` is shared by the
    containers of a pod (they share its loopback)."""

    def __init__(self, listener: int, pod_ip: str, log, ports: set[int], violations: list[str]):
        self.listener = listener
        self.pod_ip = pod_ip
        self.log = log
        self.ports = ports
        self.violations = violations
        self.rewritten = 0
        self.thread = threading.Thread(target=self._loop, name="bindfix-%s" % pod_ip, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _loop(self) -> None:
        req = ctypes.create_string_buffer(80)
        try:
            poller = select.poll()
            poller.register(self.listener, select.POLLIN)
            while True:
                events = poller.poll(1000)
                if not events:
                    continue
                if events[0][1] & (select.POLLHUP | select.POLLERR) and not events[0][1] & select.POLLIN:
                    return
                ctypes.memset(req, 0, 80)
                if libc.ioctl(self.listener, IOCTL_NOTIF_RECV, req) != 0:
                    if ctypes.get_errno() in (errno.ENOENT, errno.EINTR):
                        continue
                    return
                nid, pid = struct.unpack_from("QI", req.raw, 0)
                nr = struct.unpack_from("i", req.raw, 16)[0]
                args = struct.unpack_from("6Q", req.raw, 32)
                self._answer(nid, pid, nr, args)
        finally:
            os.close(self.listener)

    def _send(self, nid: int, val: int = 0, error: int = 0, flags: int = 0) -> None:
        resp = ctypes.create_string_buffer(struct.pack("QqiI", nid, val, error, flags))
        libc.ioctl(self.listener, IOCTL_NOTIF_SEND, resp)

    def _refused(self, nr: int, raw: bytes) -> str | None:
        """A connect to anything but loopback: the lab never dials out (returns the address)."""
        if nr != NR_CONNECT or len(raw) < 8:
            return None
        family = struct.unpack_from("H", raw, 0)[0]
        if family == socket.AF_INET:
            ip = ipaddress.ip_address(raw[4:8])
        elif family == socket.AF_INET6 and len(raw) >= 24:
            ip = ipaddress.ip_address(raw[8:24])
            ip = ip.ipv4_mapped or ip
        else:
            return None
        if ip.is_loopback or ip.is_unspecified:
            return None
        return "%s:%d" % (ip, struct.unpack_from("!H", raw, 2)[0])

    def _target(self, nr: int, raw: bytes) -> tuple | None:
        """The address to use instead of the caller's, or None to leave the call alone."""
        family = struct.unpack_from("H", raw, 0)[0] if len(raw) >= 2 else 0
        if family == socket.AF_INET and len(raw) >= 8:
            port, addr = struct.unpack_from("!H", raw, 2)[0], raw[4:8]
            if nr == NR_BIND and addr in (b"\0\0\0\0", LOOPBACK4):
                return (self.pod_ip, port)
            if nr == NR_CONNECT and addr in (LOOPBACK4, b"\0\0\0\0") and port in self.ports:
                return (self.pod_ip, port)
        elif family == socket.AF_INET6 and len(raw) >= 24:
            port, addr = struct.unpack_from("!H", raw, 2)[0], raw[8:24]
            if nr == NR_BIND and addr in (b"\0" * 16, MAPPED_LOOPBACK4):
                return ("::ffff:" + self.pod_ip, port, 0, 0)
            if nr == NR_CONNECT and addr in SELF6 and port in self.ports:
                return ("::ffff:" + self.pod_ip, port, 0, 0)
        return None

    def _answer(self, nid: int, tid: int, nr: int, args: tuple) -> None:
        sockfd, addr_ptr, addr_len = int(args[0]), int(args[1]), int(args[2]) & 0xFFFFFFFF
        try:
            with open("/proc/%d/mem" % tid, "rb", buffering=0) as mem:
                mem.seek(addr_ptr)
                raw = mem.read(min(addr_len, 128))
        except OSError:
            self._send(nid, flags=SECCOMP_USER_NOTIF_FLAG_CONTINUE)
            return
        refused = self._refused(nr, raw)
        if refused:
            # Nothing in the lab may dial a non-loopback address: refuse it as an unroutable
            # destination would be refused, and record who tried.
            self.violations.append(refused)
            self.log("SAFETY: a process of pod IP %s tried to connect to %s (refused)" % (self.pod_ip, refused))
            self._send(nid, val=-1, error=-errno.ENETUNREACH)
            return
        target = self._target(nr, raw)
        if target is None:
            self._send(nid, flags=SECCOMP_USER_NOTIF_FLAG_CONTINUE)
            return
        ctid = ctypes.c_uint64(nid)
        if libc.ioctl(self.listener, IOCTL_NOTIF_ID_VALID, ctypes.byref(ctid)) != 0:
            return
        try:
            fd = _steal_fd(tid, sockfd)
            sock = socket.socket(fileno=fd)
            try:
                if nr == NR_BIND:
                    if len(target) == 4 and sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY):
                        # An IPv6-only socket cannot take the pod's IPv4 address, and pods here
                        # have no IPv6 one: answer as a host without IPv6 addresses would.
                        raise OSError(errno.EADDRNOTAVAIL, "the pod has no IPv6 address")
                    sock.bind(target)
                    self.ports.add(sock.getsockname()[1])
                else:
                    # The caller's own (usually non-blocking) socket: connect_ex gives exactly the
                    # result its connect(2) would have (0, EINPROGRESS, ECONNREFUSED, ...).
                    code = sock.connect_ex(target)
                    if code not in (0,):
                        raise OSError(code, os.strerror(code))
            finally:
                sock.detach()
                os.close(fd)
            self.rewritten += 1
            self._send(nid, val=0)
        except OSError as exc:
            self._send(nid, val=-1, error=-(exc.errno or errno.EINVAL))


def _steal_fd(tid: int, fd: int) -> int:
    """A duplicate of the caller's socket (same open file: what we do to it, it sees)."""
    pidfd = os.pidfd_open(_tgid(tid))
    try:
        got = libc.syscall(NR_PIDFD_GETFD, pidfd, fd, 0)
        if got < 0:
            raise OSError(ctypes.get_errno(), "pidfd_getfd")
        return got
    finally:
        os.close(pidfd)


def _tgid(tid: int) -> int:
    with open("/proc/%d/status" % tid, encoding="ascii") as handle:
        for line in handle:
            if line.startswith("Tgid:"):
                return int(line.split()[1])
    return tid


def channel() -> tuple[socket.socket, socket.socket]:
    """A socketpair: the sandbox sends the listener on one end, the runtime receives it."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)


def receive_listener(sock: socket.socket, timeout: float = 30) -> int | None:
    sock.settimeout(timeout)
    try:
        _unused, fds, _unused2, _unused3 = socket.recv_fds(sock, 1, 1)
    except (TimeoutError, OSError):
        return None
    return fds[0] if fds else None


def is_loopback(ip: str) -> bool:
    return ipaddress.ip_address(ip).is_loopback
