"""CLI: python -m bench run|compare|validate|names|render|upload-k8s|from-configmap. Exit codes:
0 ok, 2 bad input or endpoint refused (no load sent), 3 Prometheus failed (client results
written), 4 the report could not be uploaded to / read from its ConfigMap, 5 the ConfigMap holds
no report."""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import __version__


def _csv(kind):
    def parse(s):
        return [kind(x) for x in s.split(",") if x.strip()] if s.strip() else []

    return parse


def _kv(items):
    out = {}
    for it in items or []:
        k, _sep, v = it.partition("=")
        try:
            out[k] = json.loads(v)
        except ValueError:
            out[k] = v
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--version", action="version", version=__version__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a benchmark and write the report")
    r.add_argument("--config", help="YAML or JSON run config (flags override it)")
    r.add_argument("--endpoint")
    r.add_argument("--model")
    r.add_argument("--api", choices=["chat", "completions"])
    r.add_argument("--api-key-env", help="environment variable holding the API key (default BENCH_API_KEY)")
    r.add_argument("--profile", choices=["sweep", "concurrency", "rate"])
    r.add_argument("--concurrencies", type=_csv(int))
    r.add_argument("--rates", type=_csv(float))
    r.add_argument("--arrival", choices=["constant", "poisson"])
    r.add_argument("--sweep-steps", type=int)
    r.add_argument("--saturation-concurrency", type=int)
    r.add_argument("--duration", type=float, dest="duration_s")
    r.add_argument("--max-requests", type=int, dest="max_requests_per_step")
    r.add_argument("--max-concurrency", type=int)
    r.add_argument("--cooldown", type=float, dest="cooldown_s")
    r.add_argument("--warmup", type=int, dest="warmup_requests")
    r.add_argument("--input-tokens", type=int)
    r.add_argument("--output-tokens", type=int)
    r.add_argument("--seed", type=int)
    r.add_argument("--dataset", choices=["random", "shared_prefix", "jsonl"])
    r.add_argument("--dataset-path")
    r.add_argument("--slo", nargs="*", metavar="KEY=MS", help="e.g. ttft_p95_ms=250 itl_p95_ms=20 (replaces the defaults)")
    r.add_argument("--gpu-cost-per-hour", type=float)
    r.add_argument("--gpus", type=int)
    r.add_argument("--prometheus-url")
    r.add_argument("--context", nargs="*", metavar="KEY=VALUE", help="engine_version=, engine_args=, gpu_type=, ...")
    r.add_argument("--reports-dir")
    r.add_argument("--run-id")
    r.add_argument("--no-requests", action="store_true", help="do not write requests.jsonl")
    r.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    r.add_argument("--no-plots", action="store_true", help="no PNG plots (python -m bench render draws them later)")
    c = sub.add_parser("compare", help="two runs side by side")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--out")
    v = sub.add_parser("validate", help="check a report.json against its schema")
    v.add_argument("report")
    sub.add_parser("names", help="print the Prometheus metric names the harness queries")
    rd = sub.add_parser("render", help="write report.md and the PNG plots from a report.json")
    rd.add_argument("report")
    rd.add_argument("--out-dir", help="default: the report's folder")
    u = sub.add_parser("upload-k8s", help="in a pod: PATCH report.json into the run's report ConfigMap (stdlib only)")
    u.add_argument("report", nargs="?", help="report.json (may be missing when the harness failed)")
    u.add_argument("--configmap", required=True)
    u.add_argument("--namespace", help="default: $POD_NAMESPACE or the service account's namespace")
    u.add_argument("--exit-code", type=int, help="the harness's exit code, stored beside the report")
    u.add_argument("--stderr-file", help="the harness's stderr; its tail is stored (API key redacted)")
    u.add_argument("--api-host", help="default: $KUBERNETES_SERVICE_HOST")
    u.add_argument("--api-port", help="default: $KUBERNETES_SERVICE_PORT")
    u.add_argument("--token-file", help="default: $BENCH_K8S_TOKEN_FILE or the pod's service-account token")
    u.add_argument("--ca-file", help="default: $BENCH_K8S_CA_FILE or the pod's service-account CA")
    f = sub.add_parser("from-configmap", help="write the report a ConfigMap (JSON file of the object) holds into the reports folder")
    f.add_argument("configmap")
    f.add_argument("--reports-dir", required=True)
    args = ap.parse_args(argv)

    if args.cmd == "render":
        from .report import render

        try:
            written = render(args.report, args.out_dir)
        except (OSError, ValueError) as exc:
            print("ERROR: render: %s" % exc, file=sys.stderr)
            return 2
        print(json.dumps({"report": os.path.abspath(args.report), "written": written}))
        return 0
    if args.cmd == "upload-k8s":
        from .k8s import UploadError, upload

        try:
            out = upload(
                args.report,
                args.namespace,
                args.configmap,
                exit_code=args.exit_code,
                stderr_file=args.stderr_file,
                api_host=args.api_host,
                api_port=args.api_port,
                token_file=args.token_file,
                ca_file=args.ca_file,
            )
        except (UploadError, OSError, ValueError) as exc:
            print("ERROR: upload-k8s: %s" % exc, file=sys.stderr)
            return 4
        print(json.dumps(out))
        return 0
    if args.cmd == "from-configmap":
        from .k8s import NoReport, collect

        try:
            out = collect(args.configmap, args.reports_dir)
        except NoReport as exc:
            print("ERROR: %s" % exc, file=sys.stderr)
            return 5
        except (OSError, ValueError, KeyError) as exc:
            print("ERROR: from-configmap: %s" % exc, file=sys.stderr)
            return 4
        print(json.dumps(out))
        return 0

    if args.cmd == "compare":
        from .compare import compare

        text = compare(args.a, args.b)
        if args.out:
            with open(args.out, "w", encoding="utf-8") as fh:
                fh.write(text)
        print(text)
        return 0
    if args.cmd == "validate":
        from .report import schema_errors

        with open(args.report, encoding="utf-8") as fh:
            errs = schema_errors(json.load(fh))
        print("\n".join(errs) or "ok")
        return 1 if errs else 0
    if args.cmd == "names":
        from .names import METRICS

        print(json.dumps(METRICS, indent=1))
        return 0

    from .config import ConfigError, resolve
    from .run import EndpointError, run

    over = {
        k: getattr(args, k)
        for k in (
            "endpoint",
            "model",
            "api",
            "api_key_env",
            "profile",
            "concurrencies",
            "rates",
            "arrival",
            "duration_s",
            "max_requests_per_step",
            "max_concurrency",
            "cooldown_s",
            "warmup_requests",
            "input_tokens",
            "output_tokens",
            "seed",
            "gpu_cost_per_hour",
            "gpus",
            "reports_dir",
            "run_id",
            "progress",
        )
    }
    if args.sweep_steps is not None or args.saturation_concurrency is not None:
        over["sweep"] = {
            k: v for k, v in (("steps", args.sweep_steps), ("saturation_concurrency", args.saturation_concurrency)) if v is not None
        }
    if args.dataset:
        over["dataset"] = {"kind": args.dataset, **({"path": args.dataset_path} if args.dataset_path else {})}
    if args.prometheus_url is not None:
        over["prometheus"] = {"url": args.prometheus_url}
    if args.context:
        over["context"] = _kv(args.context)
    if args.no_requests:
        over["save_requests"] = False
    if args.no_plots:
        over["plots"] = False
    try:
        from .config import DEFAULTS, load_file, merge, validate

        cfg = resolve(args.config, over)
        if args.slo is not None:
            cfg["slo"] = _kv(args.slo)
            problems = validate(cfg)
            if problems:
                raise ConfigError(problems)
        del DEFAULTS, load_file, merge
    except ConfigError as exc:
        print("ERROR: %s" % exc, file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print("ERROR: config: %s" % exc, file=sys.stderr)
        return 2
    try:
        report, run_dir, code = run(cfg)
    except EndpointError as exc:
        print("ERROR: %s" % exc, file=sys.stderr)
        return 2
    print(
        json.dumps(
            {
                "run_id": report["run"]["id"],
                "run_dir": os.path.abspath(run_dir),
                "report": os.path.abspath(os.path.join(run_dir, "report.json")),
                "prometheus": report["prometheus"]["status"],
            }
        )
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
