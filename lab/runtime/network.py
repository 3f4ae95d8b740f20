"""Pod networking in the lab's loopback-only namespace, where every 127.x address is local.

- Pod IPs: backed pods get their own address from 127.128.0.0/16 (kwok's simulated pods take
  theirs from each node's podCIDR, 127.10.<n>.0/24), so a process binds its pod IP and nothing
  else. EndpointSlices refuse loopback addresses, so nothing here reads them.
- Services: the API server allocates ClusterIPs from 127.96.0.0/16 (the lab's
  --service-cluster-ip-range), and this userspace proxy listens on every ClusterIP:port and
  forwards each connection to a Ready pod the Service selects (round robin over the pods'
  own addresses, named target ports resolved from the pod spec), as kube-proxy's userspace mode
  did. The API server's webhooks and aggregated APIs dial those ClusterIPs too, so upstream
  webhook and APIService wiring works unchanged. `kubernetes.default` forwards to the API server.
- DNS: a resolver on 127.0.0.10 answers <svc>.<ns>.svc.cluster.local (ClusterIP, or the Ready
  pods of a headless Service), <hostname>.<subdomain>.<ns>.svc.cluster.local and
  <a-b-c-d>.<ns>.pod.cluster.local; anything else is NXDOMAIN (nothing is forwarded).
- Binds: every backed process shares this namespace, so its wildcard binds are turned into
  binds of its pod IP (bindfix.py); nothing else needs a port of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import socket
import struct
import threading

POD_CIDR = ipaddress.ip_network("127.128.0.0/16")
SERVICE_CIDR = "127.96.0.0/16"
DNS_IP = "127.0.0.10"
DOMAIN = "cluster.local"


class IPAM:
    def __init__(self, cidr=POD_CIDR):
        self._free = iter(cidr.hosts())
        self._used: set[str] = set()
        self._released: list[str] = []
        self._lock = threading.Lock()

    def reserve(self, ip: str) -> None:
        with self._lock:
            self._used.add(ip)

    def allocate(self) -> str:
        with self._lock:
            while self._released:
                ip = self._released.pop(0)
                if ip not in self._used:
                    self._used.add(ip)
                    return ip
            for addr in self._free:
                ip = str(addr)
                if ip.endswith(".0") or ip.endswith(".1") or ip in self._used:
                    continue
                self._used.add(ip)
                return ip
        raise RuntimeError("pod address range %s exhausted" % POD_CIDR)

    def release(self, ip: str) -> None:
        with self._lock:
            if ip in self._used:
                self._used.discard(ip)
                self._released.append(ip)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, RuntimeError):
            writer.close()


async def splice(client_r, client_w, host: str, port: int) -> None:
    try:
        up_r, up_w = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=10)
    except (TimeoutError, OSError):
        client_w.close()
        return
    await asyncio.gather(_pipe(client_r, up_w), _pipe(up_r, client_w))
    for w in (client_w, up_w):
        w.close()


class Network:
    """The asyncio side: service listeners, forwards and DNS, on one event-loop thread."""

    def __init__(self, runtime, apiserver_port: int):
        self.rt = runtime
        self.apiserver_port = apiserver_port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="network", daemon=True)
        self.services: dict[tuple[str, int], asyncio.AbstractServer] = {}
        self.service_keys: dict[str, set[tuple[str, int]]] = {}
        self._rr = itertools.count()

    def start(self) -> None:
        self.thread.start()
        self.call(self._start_dns())

    def call(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    # ------------------------------------------------------------------ services
    def sync_service(self, svc: dict | None, key: str) -> None:
        """Listen on every ClusterIP:port of svc (None: stop listening for key)."""
        wanted: set[tuple[str, int]] = set()
        if svc:
            ip = svc.get("spec", {}).get("clusterIP")
            if ip and ip != "None" and ip.startswith("127."):
                for p in svc["spec"].get("ports", []):
                    if p.get("protocol", "TCP") == "TCP":
                        wanted.add((ip, int(p["port"])))
        self.call(self._sync_listeners(key, wanted))

    async def _sync_listeners(self, key: str, wanted: set[tuple[str, int]]) -> None:
        have = self.service_keys.get(key, set())
        for addr in have - wanted:
            server = self.services.pop(addr, None)
            if server:
                server.close()
        for addr in wanted - have:
            try:
                self.services[addr] = await asyncio.start_server(
                    lambda r, w, a=addr, k=key: self._serve(k, a, r, w), addr[0], addr[1], reuse_address=True
                )
            except OSError as exc:
                self.rt.log("service %s: cannot listen on %s:%d: %s" % (key, addr[0], addr[1], exc))
                continue
        self.service_keys[key] = wanted

    async def _serve(self, key: str, addr: tuple[str, int], reader, writer) -> None:
        target = self.rt.service_backend(key, addr[1], next(self._rr))
        if target is None:
            writer.close()
            return
        await splice(reader, writer, *target)

    # ------------------------------------------------------------------ DNS
    async def _start_dns(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: _DnsUdp(self), local_addr=(DNS_IP, 53))
        await asyncio.start_server(self._dns_tcp, DNS_IP, 53, reuse_address=True)

    async def _dns_tcp(self, reader, writer) -> None:
        try:
            while True:
                size = struct.unpack("!H", await reader.readexactly(2))[0]
                query = await reader.readexactly(size)
                answer = self.answer(query)
                writer.write(struct.pack("!H", len(answer)) + answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, struct.error):
            writer.close()

    def answer(self, query: bytes) -> bytes:
        qid, flags, _qdcount = struct.unpack("!HHH", query[:6])
        pos, labels = 12, []
        while query[pos]:
            n = query[pos]
            labels.append(query[pos + 1 : pos + 1 + n].decode(errors="replace").lower())
            pos += n + 1
        qtype, _unused = struct.unpack("!HH", query[pos + 1 : pos + 5])
        question = query[12 : pos + 5]
        name = ".".join(labels)
        ips = self.rt.resolve(name) if name.endswith(DOMAIN) or name.endswith(DOMAIN + ".") else None
        rd = flags & 0x0100
        if ips is None:
            return struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080 | 3, 1, 0, 0, 0) + question
        answers = b""
        count = 0
        if qtype in (1, 255):
            for ip in ips:
                answers += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 5, 4) + socket.inet_aton(ip)
                count += 1
        return struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080, 1, count, 0, 0) + question + answers


class _DnsUdp(asyncio.DatagramProtocol):
    def __init__(self, net: Network):
        self.net = net
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        with contextlib.suppress(struct.error, IndexError, UnicodeError):
            self.transport.sendto(self.net.answer(data), addr)
