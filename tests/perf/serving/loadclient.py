"""Closed-loop load client (stdlib only): C workers, each with one keep-alive connection, send
N chat completions in total; prints per-request latencies (ms) as JSON. Run inside the
benchmark's network namespace. Bounded by count and by a wall-clock deadline."""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
import urllib.parse


def main():
    args = json.loads(sys.argv[1])
    url = urllib.parse.urlsplit(args["url"])
    body = json.dumps(
        {"model": args["model"], "messages": [{"role": "user", "content": "Say hello in five words."}], "max_tokens": args["max_tokens"]}
    ).encode()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + args["key"]}
    remaining = [args["requests"]]
    lock = threading.Lock()
    lat, errors = [], [0]
    deadline = time.monotonic() + args["max_seconds"]

    def worker():
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] <= 0:
                    break
                remaining[0] -= 1
            t0 = time.perf_counter()
            try:
                conn.request("POST", url.path, body, headers)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
                ok = False
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                if ok:
                    lat.append(ms)
                else:
                    errors[0] += 1
        conn.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args["concurrency"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"latencies_ms": lat, "errors": errors[0], "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
