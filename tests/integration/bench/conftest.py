"""Bench integration tests: llm-d-inference-sim and a real Prometheus in a private network
namespace (see benchkit.py). Marked ``bench``; they need root (ip netns), the simulator built by
lab/build.sh and Debian's prometheus package."""

import os
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import benchkit  # noqa: E402

# Simulator settings the client's medians are checked against.
SIM_TTFT_MS = 50.0
SIM_ITL_MS = 10.0
SIM_MAX_NUM_SEQS = 4
SIM_PORT = 18000
PROM_PORT = 19090


@pytest.fixture(scope="session")
def workdir():
    d = tempfile.mkdtemp(prefix="bench-it-")
    os.chmod(d, 0o755)  # noqa: S103 (other users, e.g. postgres, must traverse it)
    return d


@pytest.fixture(scope="session")
def ns():
    with benchkit.Netns() as n:
        yield n


@pytest.fixture(scope="session")
def sim(ns, workdir):
    p = benchkit.start_sim(ns, SIM_PORT, workdir, ttft="%dms" % SIM_TTFT_MS, itl="%dms" % SIM_ITL_MS, max_num_seqs=SIM_MAX_NUM_SEQS)
    yield "http://127.0.0.1:%d/v1" % SIM_PORT
    p.stop()


@pytest.fixture(scope="session")
def prometheus(ns, workdir, sim):
    p = benchkit.start_prometheus(ns, PROM_PORT, workdir, ["127.0.0.1:%d" % SIM_PORT])
    benchkit.wait_scraped(ns, PROM_PORT)
    yield "http://127.0.0.1:%d" % PROM_PORT
    p.stop()


@pytest.fixture(scope="session")
def bench(ns, workdir):
    """``bench(*args)`` runs ``python -m bench`` in the namespace; returns (rc, stdout, stderr, result)."""

    def run(*args, env=None, timeout=600):
        full_env = dict(os.environ, **(env or {}))
        r = ns.run([sys.executable, "-m", "bench", *args], cwd=benchkit.REPO, capture_output=True, text=True, env=full_env, timeout=timeout)
        result = None
        lines = r.stdout.strip().splitlines()
        if args and args[0] == "run" and r.returncode in (0, 3) and lines:
            import json

            result = json.loads(lines[-1])
        return r.returncode, r.stdout, r.stderr, result

    return run
