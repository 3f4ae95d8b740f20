#!/usr/bin/env python
"""Byte forwarder between a loopback TCP port and a unix socket (stdlib only).

The lab runs in a network namespace that has only loopback. Unix sockets live in the
filesystem and so cross namespace boundaries; two instances of this script carry the API
server across without giving the lab any route out:

  inside the netns:  lab_bridge.py --listen-unix SOCK --connect-tcp 127.0.0.1:PORT
  on the host:       lab_bridge.py --listen-tcp 127.0.0.1:PORT --connect-unix SOCK

Only 127.0.0.1 is accepted as a TCP address. The script writes --pidfile once it listens,
and removes its unix socket and pid file on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys


def _loopback(addr: str) -> tuple[str, int]:
    host, _sep, port = addr.rpartition(":")
    if host != "127.0.0.1":
        raise SystemExit(f"refusing non-loopback address {addr!r}: only 127.0.0.1 is allowed")
    return host, int(port)


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
        with contextlib.suppress(OSError):
            writer.close()


async def _main(args: argparse.Namespace) -> None:
    async def connect():
        if args.connect_unix:
            return await asyncio.open_unix_connection(args.connect_unix)
        return await asyncio.open_connection(*_loopback(args.connect_tcp))

    async def handle(c_reader, c_writer):
        try:
            u_reader, u_writer = await connect()
        except OSError:
            c_writer.close()
            return
        await asyncio.gather(_pipe(c_reader, u_writer), _pipe(u_reader, c_writer))

    if args.listen_unix:
        if os.path.exists(args.listen_unix):
            os.unlink(args.listen_unix)
        server = await asyncio.start_unix_server(handle, path=args.listen_unix)
        os.chmod(args.listen_unix, 0o600)
    else:
        host, port = _loopback(args.listen_tcp)
        server = await asyncio.start_server(handle, host=host, port=port, reuse_address=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.pidfile:
        with open(args.pidfile + ".tmp", "w", encoding="ascii") as fh:
            fh.write(f"{os.getpid()}\n")
        os.replace(args.pidfile + ".tmp", args.pidfile)
    async with server:
        await stop.wait()
    for path in (args.listen_unix, args.pidfile):
        if path and os.path.exists(path):
            os.unlink(path)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    listen = parser.add_mutually_exclusive_group(required=True)
    listen.add_argument("--listen-unix")
    listen.add_argument("--listen-tcp")
    connect = parser.add_mutually_exclusive_group(required=True)
    connect.add_argument("--connect-unix")
    connect.add_argument("--connect-tcp")
    parser.add_argument("--pidfile")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_main(args))
    except OSError as exc:
        print(f"lab_bridge: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
