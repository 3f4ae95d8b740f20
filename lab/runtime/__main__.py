"""python -m runtime (with lab/ on PYTHONPATH):

run --kubeconfig K --state-dir D --cache C --apiserver-port P   the runtime (inside the lab netns)
kwok-selector [--cache C]                                       the jq query of kwok's pod stages (unbuilt images stay simulated)
images                                                          the image map, one line an image
state --state-dir D                                             backed and simulated pods, from state.json
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import signal
import sys

from . import images


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime")
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run")
    run.add_argument("--kubeconfig", required=True)
    run.add_argument("--state-dir", required=True)
    run.add_argument("--cache", required=True)
    run.add_argument("--apiserver-port", type=int, required=True)
    run.add_argument("--pidfile")
    run.add_argument("--recipe", default="", help="what the runtime was started from (lab_ctl stop-runtime compares it)")
    # kwok-selector and recipe take --cache: an image whose binaries are not built stays simulated.
    for name in ("kwok-selector", "images", "recipe"):
        sub.add_parser(name).add_argument("--cache", default=None)
    state = sub.add_parser("state")
    state.add_argument("--state-dir", required=True)
    args = parser.parse_args(argv)

    if args.cmd == "kwok-selector":
        versions = images.load_versions()
        print(images.kwok_selector(images.built_map(images.load_map(), versions, args.cache), versions))
        return 0
    if args.cmd == "images":
        versions = images.load_versions()
        missing = images.unbuilt(images.load_map(), versions, args.cache)
        for name, entry in images.load_map().items():
            print(
                "%-22s %s%s" % (name, images.entry_regex(entry, versions), "  [simulated: %s]" % missing[name] if name in missing else "")
            )
        return 0
    if args.cmd == "recipe":
        digest = hashlib.sha256()
        lab = os.path.dirname(images.HERE)
        for path in [
            *sorted(glob.glob(os.path.join(images.HERE, "*.py")) + glob.glob(os.path.join(lab, "gateway", "*.py"))),
            os.path.join(images.HERE, "images.yml"),
            os.path.join(lab, "versions.yml"),
        ]:
            with open(path, "rb") as handle:
                digest.update(handle.read())
        # What is built is part of it: a component built later restarts the runtime to back it.
        digest.update(repr(sorted(images.unbuilt(images.load_map(), images.load_versions(), args.cache))).encode())
        print(digest.hexdigest())
        return 0
    if args.cmd == "state":
        with open(os.path.join(args.state_dir, "state.json"), encoding="utf-8") as handle:
            print(json.dumps(json.load(handle), indent=1))
        return 0

    from .runtime import Runtime

    if args.pidfile:
        with open(args.pidfile, "w", encoding="ascii") as handle:
            handle.write(str(os.getpid()))
    os.makedirs(args.state_dir, exist_ok=True)
    with open(os.path.join(args.state_dir, "recipe"), "w", encoding="ascii") as handle:
        handle.write(args.recipe)

    rt = Runtime(args.kubeconfig, args.state_dir, args.cache, args.apiserver_port)

    def stop(signum, frame):
        rt.log("signal %d: stopping every backed pod" % signum)
        rt.shutdown()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    rt.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
