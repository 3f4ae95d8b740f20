"""One backed pod: its address, files, containers as processes, probes and status, played the
way the kubelet plays them (init containers in order, restart policy with CrashLoopBackOff,
startup/readiness/liveness probes, graceful termination, the final delete)."""

from __future__ import annotations

import contextlib
import datetime
import http.client
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from . import bindfix, volumes
from . import launch as launchmod

SANDBOX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox.py")
BACKOFF_START, BACKOFF_MAX, BACKOFF_RESET = 10.0, 300.0, 600.0
# Runs in the container's filesystem (nsenter --root) as root: takes the container's
# environment from /proc (so no value appears in an argv), puts itself under the pod's bind and
# connect rules (bindfix: a probe dialing localhost reaches the pod), drops to the container's
# user and runs the probe command.
EXEC_PROBE = (
    "import os,sys;sys.path.insert(0,sys.argv[1]);import bindfix;"
    "env=dict(e.split('=',1) for e in open('/proc/%s/environ' % sys.argv[2]).read().split(chr(0)) if '=' in e);"
    "bindfix.install_filter(int(sys.argv[3]));"
    "uid,gid=int(sys.argv[4]),int(sys.argv[5]);os.setgroups([]);os.setgid(gid);os.setuid(uid);"
    "os.execvpe(sys.argv[6], sys.argv[6:], env)"
)


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Probe:
    def __init__(self, spec: dict | None):
        self.spec = spec
        self.next_at = 0.0
        self.successes = 0
        self.failures = 0
        self.ok = spec is None

    def reset(self, started: float) -> None:
        if self.spec:
            self.next_at = started + self.spec.get("initialDelaySeconds", 0)
            self.successes = self.failures = 0
            self.ok = False


class Container:
    def __init__(self, spec: dict, init: bool):
        self.spec = spec
        self.name = spec["name"]
        self.init = init
        self.sidecar = init and spec.get("restartPolicy") == "Always"
        self.restarts = 0
        self.proc: subprocess.Popen | None = None
        self.state: dict = {"waiting": {"reason": "ContainerCreating"}}
        self.last_state: dict = {}
        self.started_at = 0.0
        self.backoff = 0.0
        self.retry_at = 0.0
        self.done = False  # init container completed successfully
        self.startup = Probe(spec.get("startupProbe"))
        self.readiness = Probe(spec.get("readinessProbe"))
        self.liveness = Probe(spec.get("livenessProbe"))
        self.ready = False
        self.log_thread: threading.Thread | None = None
        self.kill_reason = ""
        self.notes: list[str] = []

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class PodWorker(threading.Thread):
    def __init__(self, rt, pod: dict):
        super().__init__(name="pod-%s/%s" % (pod["metadata"]["namespace"], pod["metadata"]["name"]), daemon=True)
        self.rt = rt
        self.uid = pod["metadata"]["uid"]
        self.ns = pod["metadata"]["namespace"]
        self.pod_name = pod["metadata"]["name"]
        self.pod = pod
        self.dir = os.path.join(rt.state_dir, "pods", self.uid)
        self.ip = (pod.get("status") or {}).get("podIP") if (pod.get("status") or {}).get("podIP", "").startswith("127.128.") else None
        self.host_ip = rt.node_ip(pod["spec"].get("nodeName"))
        self.init = [Container(c, True) for c in pod["spec"].get("initContainers", [])]
        self.main = [Container(c, False) for c in pod["spec"].get("containers", [])]
        self.paths: dict[str, str] | None = None
        self.tokens: dict = {}
        self.volume_error = ""
        self.volumes_at = 0.0
        self.phase = "Pending"
        self.last_status: dict | None = None
        self.stopping = False
        self.wake = threading.Event()
        self.start_time = now()
        self.ports: set[int] = set()  # the pod's own ports (its loopback: bindfix.py)

    # ------------------------------------------------------------------ lifecycle
    def run(self) -> None:
        try:
            self._setup()
            while True:
                pod = self.rt.cache.get_uid("pods", self.uid)
                if pod is None:
                    self._teardown(grace=0)
                    return
                self.pod = pod
                theirs = (pod.get("status") or {}).get("podIP")
                if theirs and theirs != self.ip:
                    # kwok gave it an address first (a stage from before the image map backed
                    # this image): an address cannot change, so its controller makes a new pod.
                    self.rt.log("pod %s/%s already has address %s: deleting it to be recreated" % (self.ns, self.pod_name, theirs))
                    self._teardown(grace=0)
                    self.rt.client.delete("/api/v1/namespaces/%s/pods/%s" % (self.ns, self.pod_name), {"gracePeriodSeconds": 0})
                    return
                if pod["metadata"].get("deletionTimestamp"):
                    self._teardown(grace=pod["metadata"].get("deletionGracePeriodSeconds", 30))
                    self.rt.client.delete(
                        "/api/v1/namespaces/%s/pods/%s" % (self.ns, self.pod_name),
                        {"gracePeriodSeconds": 0, "preconditions": {"uid": self.uid}},
                    )
                    return
                self._step()
                self._push_status()
                self.wake.wait(0.5)
                self.wake.clear()
        except Exception as exc:
            self.rt.log("pod %s/%s: worker failed: %r" % (self.ns, self.pod_name, exc))
            import traceback

            traceback.print_exc(file=sys.stderr)
            # Containers already started must not outlive their worker (the next pod event
            # starts a new one), and the address goes back to the pool.
            try:
                self._teardown(grace=0)
            except Exception as again:  # best effort: the first failure is the story
                self.rt.log("pod %s/%s: teardown after the failure failed too: %r" % (self.ns, self.pod_name, again))
        finally:
            self.rt.worker_done(self)

    def _setup(self) -> None:
        if not self.ip:
            self.ip = self.rt.ipam.allocate()
        else:
            self.rt.ipam.reserve(self.ip)
        os.makedirs(os.path.join(self.dir, "etc"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        hostname = self.pod["spec"].get("hostname") or self.pod_name
        fqdn = ""
        if self.pod["spec"].get("subdomain"):
            fqdn = "%s.%s.%s.svc.cluster.local" % (hostname, self.pod["spec"]["subdomain"], self.ns)
        with open(os.path.join(self.dir, "etc", "hosts"), "w", encoding="utf-8") as handle:
            handle.write("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s %s\n" % (self.ip, fqdn, hostname))
        with open(os.path.join(self.dir, "etc", "resolv.conf"), "w", encoding="utf-8") as handle:
            handle.write(
                "search %s.svc.cluster.local svc.cluster.local cluster.local\nnameserver %s\noptions ndots:5\n" % (self.ns, self.rt.dns_ip)
            )
        with open(os.path.join(self.dir, "etc", "hostname"), "w", encoding="utf-8") as handle:
            handle.write(hostname + "\n")
        for d in (self.dir, os.path.join(self.dir, "etc")):
            os.chmod(d, 0o755)  # noqa: S103 - /etc/hosts and resolv.conf are read by the pod's user
        self.rt.publish_debug_objects(self)
        self._push_status(force=True)

    def _teardown(self, grace: int) -> None:
        self.stopping = True
        everything = [c for c in self.main + self.init if c.running()]
        for c in everything:
            self._signal(c, signal.SIGTERM)
        deadline = time.time() + max(0, min(int(grace or 0), 30))
        while time.time() < deadline and any(c.running() for c in everything):
            time.sleep(0.1)
        for c in everything:
            if c.running():
                self._signal(c, signal.SIGKILL)
        for c in everything:
            if c.proc:
                c.proc.wait()
        self.rt.ipam.release(self.ip)
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.rt.secret_dir(self.pod), ignore_errors=True)

    def _signal(self, c: Container, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(c.proc.pid, sig)

    # ------------------------------------------------------------------ stepping
    def _step(self) -> None:
        if self.phase in ("Succeeded", "Failed"):
            return
        if not self._volumes():
            return
        policy = self.pod["spec"].get("restartPolicy", "Always")
        for c in self.init:
            if c.sidecar:
                self._drive(c, "Always")
                if not (c.running() and c.startup.ok):
                    return
                continue
            if c.done:
                continue
            self._drive(c, "OnFailure" if policy == "Always" else policy)
            if not c.done:
                if "terminated" in c.state and policy == "Never":
                    self.phase = "Failed"
                return
        for c in self.main:
            self._drive(c, policy)
        if policy != "Always" and all("terminated" in c.state and c.retry_at == 0 for c in self.main):
            failed = any(c.state["terminated"].get("exitCode", 0) != 0 for c in self.main)
            if not failed or policy == "Never":
                self.phase = "Failed" if failed else "Succeeded"
                self._stop_sidecars()
                return
        self.phase = "Running" if any(c.running() or c.restarts for c in self.main) else "Pending"

    def _stop_sidecars(self) -> None:
        for c in self.init:
            if c.sidecar and c.running():
                self._signal(c, signal.SIGTERM)

    def _volumes(self) -> bool:
        """Write (and every few seconds refresh) the pod's volumes; False while a source is missing."""
        if self.paths is not None and time.time() - self.volumes_at < 5:
            return True
        try:
            self.paths = volumes.materialize(self.rt, self.pod, self.dir, self.ip, self.host_ip, self.tokens)
            self.volumes_at = time.time()
            self.volume_error = ""
            return True
        except volumes.NotReady as exc:
            if self.paths is not None:  # a refresh failed: keep the last good files, as the kubelet does
                return True
            if str(exc) != self.volume_error:
                self.rt.event(self.pod, "Warning", "FailedMount", "MountVolume.SetUp failed: %s" % exc)
            self.volume_error = str(exc)
            return False

    def _drive(self, c: Container, policy: str) -> None:
        if c.proc is not None:
            code = c.proc.poll()
            if code is None:
                self._probe(c)
                return
            self._exited(c, code, policy)
            return
        if c.done or time.time() < c.retry_at:
            return
        if "terminated" in c.state and c.retry_at == 0:
            return  # finished for good (restart policy)
        self._start(c)

    def _start(self, c: Container) -> None:
        image = c.spec.get("image", "")
        found = self.rt.images.lookup(image)
        try:
            spec, launch = launchmod.build(self.rt, self.pod, c.spec, found[0], found[1], self.ip, self.host_ip, self.paths, self.dir)
        except launchmod.ConfigError as exc:
            if c.state.get("waiting", {}).get("message") != str(exc):
                self.rt.event(self.pod, "Warning", "Failed", "Error: %s" % exc)
            c.state = {"waiting": {"reason": "CreateContainerConfigError", "message": str(exc)}}
            c.retry_at = time.time() + 2
            return
        c.notes = launch.notes
        scratch = os.path.join(self.dir, "scratch-%s" % c.name)
        os.makedirs(scratch, exist_ok=True)
        spec["scratch"] = scratch
        sc = c.spec.get("securityContext") or {}
        spec["capabilities"] = sc.get("capabilities") or {}
        spec["no_new_privs"] = sc.get("allowPrivilegeEscalation") is False
        spec_path = os.path.join(self.rt.secret_dir(self.pod), "spec-%s.json" % c.name)
        os.makedirs(os.path.dirname(spec_path), exist_ok=True)
        log_dir = os.path.join(self.dir, "logs", c.name)
        os.makedirs(log_dir, exist_ok=True)
        log_path = os.path.join(log_dir, "%d.log" % c.restarts)
        ours, theirs = bindfix.channel()
        spec["bindfix_fd"] = theirs.fileno()
        volumes.dump_json(spec_path, spec)
        proc = subprocess.Popen(
            ["unshare", "--mount", "--uts", "--propagation", "private", "--", sys.executable, SANDBOX, spec_path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            pass_fds=(theirs.fileno(),),
        )
        theirs.close()
        threading.Thread(target=self._supervise_binds, args=(ours,), daemon=True).start()
        c.proc = proc
        c.started_at = time.time()
        c.state = {"running": {"startedAt": now()}}
        c.kill_reason = ""
        for probe in (c.startup, c.readiness, c.liveness):
            probe.reset(c.started_at)
        c.ready = False
        c.log_thread = threading.Thread(target=_copy_logs, args=(proc, log_path), daemon=True)
        c.log_thread.start()
        self.rt.update_logs_object(self, c, log_path)
        self.rt.event(self.pod, "Normal", "Started", "Started container %s (lab runtime: %s)" % (c.name, found[0]))

    def _supervise_binds(self, chan) -> None:
        listener = bindfix.receive_listener(chan)
        chan.close()
        if listener is not None:
            bindfix.Supervisor(listener, self.ip, self.rt.log, self.ports, self.rt.violations).start()

    def _exited(self, c: Container, code: int, policy: str) -> None:
        if c.log_thread:
            c.log_thread.join(timeout=2)
        signalled = code < 0
        exit_code = 128 - code if signalled else code
        reason = c.kill_reason or ("Completed" if exit_code == 0 else "Error")
        c.state = {
            "terminated": {
                "exitCode": exit_code,
                "reason": reason,
                "startedAt": _iso(c.started_at),
                "finishedAt": now(),
                "containerID": self._cid(c),
            }
        }
        c.proc = None
        c.ready = False
        if c.init and not c.sidecar and exit_code == 0:
            c.done = True
            return
        restart = policy == "Always" or (policy == "OnFailure" and exit_code != 0)
        if not restart:
            c.retry_at = 0
            return
        ran = time.time() - c.started_at
        c.backoff = BACKOFF_START if (c.backoff == 0 or ran > BACKOFF_RESET) else min(c.backoff * 2, BACKOFF_MAX)
        c.retry_at = time.time() + c.backoff
        c.last_state = c.state
        c.restarts += 1
        c.state = {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": "back-off %ds restarting failed container=%s pod=%s_%s" % (c.backoff, c.name, self.pod_name, self.ns),
            }
        }
        self.rt.event(self.pod, "Warning", "BackOff", "Back-off restarting failed container %s" % c.name)

    def _cid(self, c: Container) -> str:
        return "lab://%s-%s-%d" % (self.uid[:8], c.name, c.restarts)

    # ------------------------------------------------------------------ probes
    def _probe(self, c: Container) -> None:
        t = time.time()
        if not c.startup.ok:
            if c.startup.spec and t >= c.startup.next_at:
                self._run_probe(c, c.startup, "Startup")
            if not c.startup.ok:
                return
            for probe in (c.readiness, c.liveness):
                probe.next_at = t
        if c.readiness.spec and t >= c.readiness.next_at:
            self._run_probe(c, c.readiness, "Readiness")
        c.ready = c.readiness.ok if c.readiness.spec else True
        if c.liveness.spec and t >= c.liveness.next_at:
            self._run_probe(c, c.liveness, "Liveness")

    def _run_probe(self, c: Container, probe: Probe, kind: str) -> None:
        spec = probe.spec
        probe.next_at = time.time() + spec.get("periodSeconds", 10)
        ok, message = self.check(c, spec)
        if ok:
            probe.successes += 1
            probe.failures = 0
            if probe.successes >= spec.get("successThreshold", 1):
                probe.ok = True
            return
        probe.failures += 1
        probe.successes = 0
        if probe.failures >= spec.get("failureThreshold", 3):
            if probe.ok or probe.failures == spec.get("failureThreshold", 3):
                self.rt.event(self.pod, "Warning", "Unhealthy", "%s probe failed: %s" % (kind, message))
            probe.ok = False
            if kind in ("Liveness", "Startup"):
                c.kill_reason = "Error"
                self.rt.event(self.pod, "Normal", "Killing", "Container %s failed %s probe, will be restarted" % (c.name, kind.lower()))
                self._signal(c, signal.SIGTERM)
                threading.Timer(
                    float(self.pod["spec"].get("terminationGracePeriodSeconds", 30)), self._signal_if_running, (c, c.proc)
                ).start()

    def _signal_if_running(self, c: Container, proc) -> None:
        if c.proc is proc and c.running():
            self._signal(c, signal.SIGKILL)

    def _port(self, c: Container, port) -> int:
        if isinstance(port, int) or str(port).isdigit():
            return int(port)
        for p in c.spec.get("ports", []):
            if p.get("name") == port:
                return int(p["containerPort"])
        raise ValueError("no container port named %s" % port)

    def check(self, c: Container, spec: dict) -> tuple[bool, str]:
        timeout = spec.get("timeoutSeconds", 1)
        try:
            if "httpGet" in spec:
                h = spec["httpGet"]
                port = self._port(c, h["port"])
                cls = http.client.HTTPSConnection if h.get("scheme", "HTTP") == "HTTPS" else http.client.HTTPConnection
                kwargs = {"context": _insecure()} if cls is http.client.HTTPSConnection else {}
                conn = cls(h.get("host") or self.ip, port, timeout=timeout, **kwargs)
                headers = {x["name"]: x["value"] for x in h.get("httpHeaders", [])}
                conn.request("GET", h.get("path", "/"), headers=headers)
                status = conn.getresponse().status
                conn.close()
                return 200 <= status < 400, "HTTP probe failed with statuscode: %d" % status
            if "tcpSocket" in spec or "grpc" in spec:
                port = self._port(c, (spec.get("tcpSocket") or spec.get("grpc"))["port"])
                if "grpc" in spec:
                    return _grpc_health(self.ip, port, spec["grpc"].get("service", ""), timeout)
                with socket.create_connection((self.ip, port), timeout=timeout):
                    return True, ""
            if "exec" in spec:
                uid, gid, _unused = launchmod.identity(self.pod, c.spec, self.rt.images.lookup(c.spec["image"])[1])
                ours, theirs = bindfix.channel()
                cmd = ["nsenter", "--target", str(c.proc.pid), "--mount", "--root", "--wd", "--", "python3", "-c", EXEC_PROBE]
                cmd += [os.path.dirname(SANDBOX), str(c.proc.pid), str(theirs.fileno()), str(uid), str(gid), *spec["exec"]["command"]]
                with ours:
                    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(theirs.fileno(),))
                    theirs.close()
                    listener = bindfix.receive_listener(ours, timeout=max(timeout, 1))
                    if listener is not None:
                        bindfix.Supervisor(listener, self.ip, self.rt.log, self.ports, self.rt.violations).start()
                    try:
                        out, _unused = child.communicate(timeout=max(timeout, 1))
                    except subprocess.TimeoutExpired:
                        child.kill()
                        out, _unused = child.communicate()
                        return False, "command timed out after %ds" % max(timeout, 1)
                proc = subprocess.CompletedProcess(cmd, child.returncode, out, b"")
                return proc.returncode == 0, "command failed: exit %d: %s" % (proc.returncode, proc.stdout[-200:].decode(errors="replace"))
        except (OSError, http.client.HTTPException, ValueError, subprocess.TimeoutExpired) as exc:
            return False, str(exc)
        return True, ""

    # ------------------------------------------------------------------ status
    def _container_status(self, c: Container) -> dict:
        found = self.rt.images.lookup(c.spec.get("image", ""))
        st = {
            "name": c.name,
            "image": c.spec.get("image", ""),
            "imageID": "lab-runtime://%s" % (found[0] if found else "unknown"),
            "ready": bool(c.ready and c.running()),
            "restartCount": c.restarts,
            "started": bool(c.running() and c.startup.ok),
            "state": c.state,
            "lastState": c.last_state or {},
        }
        if c.proc is not None or "terminated" in c.state:
            st["containerID"] = self._cid(c)
        return st

    def _push_status(self, force: bool = False) -> None:
        initialized = all(c.done or (c.sidecar and c.running()) for c in self.init)
        ready = initialized and all(c.ready and c.running() for c in self.main)
        if self.phase in ("Succeeded", "Failed"):
            ready = False
        gates = [g["conditionType"] for g in self.pod["spec"].get("readinessGates", [])]
        existing = {cond["type"]: cond for cond in (self.pod.get("status") or {}).get("conditions", [])}
        gates_ok = all(existing.get(g, {}).get("status") == "True" for g in gates)

        def cond(kind: str, value: bool, reason: str = "") -> dict:
            status = "True" if value else "False"
            old = existing.get(kind, {})
            out = {
                "type": kind,
                "status": status,
                "lastTransitionTime": old.get("lastTransitionTime") if old.get("status") == status else now(),
            }
            if not value and reason:
                out["reason"] = reason
            return out

        conditions = [
            cond("PodReadyToStartContainers", True),
            cond("Initialized", initialized, "ContainersNotInitialized"),
            cond("ContainersReady", ready, "ContainersNotReady"),
            cond("Ready", ready and gates_ok, "ContainersNotReady"),
            cond("PodScheduled", True),
        ]
        status = {
            "phase": self.phase,
            "podIP": self.ip,
            "podIPs": [{"ip": self.ip}],
            "hostIP": self.host_ip,
            "hostIPs": [{"ip": self.host_ip}],
            "startTime": self.start_time,
            "conditions": conditions,
            "containerStatuses": [self._container_status(c) for c in self.main],
            "qosClass": (self.pod.get("status") or {}).get("qosClass", "BestEffort"),
        }
        if self.init:
            status["initContainerStatuses"] = [self._container_status(c) for c in self.init]
        if self.volume_error and self.paths is None:
            for cs in status["containerStatuses"]:
                cs["state"] = {"waiting": {"reason": "ContainerCreating", "message": self.volume_error}}
        comparable = json.dumps({k: v for k, v in status.items() if k != "conditions"}, sort_keys=True) + json.dumps(
            [(x["type"], x["status"]) for x in conditions]
        )
        if not force and comparable == self.last_status:
            return
        try:
            self.rt.client.patch("/api/v1/namespaces/%s/pods/%s/status" % (self.ns, self.pod_name), {"status": status}, kind="strategic")
            self.last_status = comparable
        except Exception as exc:
            self.rt.log("pod %s/%s: status update failed: %s" % (self.ns, self.pod_name, exc))

    def summary(self) -> dict:
        return {
            "namespace": self.ns,
            "name": self.pod_name,
            "uid": self.uid,
            "ip": self.ip,
            "phase": self.phase,
            "containers": {
                c.name: {"pid": c.proc.pid if c.running() else None, "restarts": c.restarts, "ready": c.ready, "notes": c.notes}
                for c in self.init + self.main
            },
        }


def _iso(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _insecure():
    import ssl

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _copy_logs(proc: subprocess.Popen, path: str) -> None:
    """The container's stdout/stderr in the CRI log format kwok's log server reads."""
    sel = selectors.DefaultSelector()
    streams = {proc.stdout: "stdout", proc.stderr: "stderr"}
    for stream in streams:
        os.set_blocking(stream.fileno(), False)
        sel.register(stream, selectors.EVENT_READ)
    partial = {"stdout": b"", "stderr": b""}
    with open(path, "ab") as out:
        while streams:
            for key, _unused in sel.select(timeout=1.0):
                name = streams[key.fileobj]
                chunk = key.fileobj.read(65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    del streams[key.fileobj]
                    if partial[name]:
                        out.write(_cri(name, partial[name], "F"))
                    continue
                data = partial[name] + chunk
                *lines, partial[name] = data.split(b"\n")
                for line in lines:
                    out.write(_cri(name, line, "F"))
                if len(partial[name]) > 16384:
                    out.write(_cri(name, partial[name], "P"))
                    partial[name] = b""
                out.flush()
    sel.close()


def _cri(stream: str, line: bytes, tag: str) -> bytes:
    ts = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return ("%s %s %s " % (ts, stream, tag)).encode() + line + b"\n"


def _grpc_health(host: str, port: int, service: str, timeout: float) -> tuple[bool, str]:
    """grpc.health.v1.Health/Check over cleartext HTTP/2, as the kubelet's gRPC probe does."""
    from . import grpcprobe

    return grpcprobe.check(host, port, service, timeout)
