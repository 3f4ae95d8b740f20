"""Unit tests of the living lab's pod runtime (lab/runtime): the image map and the kwok selector
rendered from the same expression, what stays simulated when a binary is not built, pod
addresses, the vLLM -> llm-d-inference-sim translation and the bind-address rewrite rules."""

from __future__ import annotations

import os
import re
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(REPO, "lab"))

from runtime import images, network, translate  # noqa: E402

VERSIONS = images.load_versions()
MAP = images.load_map()


def _pod(*image_names, init=()):
    return {"spec": {"containers": [{"image": i} for i in image_names], "initContainers": [{"image": i} for i in init]}}


def test_every_entry_matches_its_own_repositories_and_only_its_tags():
    im = images.ImageMap()
    argocd = VERSIONS["components"]["argocd"]["version"]
    assert im.match("quay.io/argoproj/argocd:%s" % argocd) == "argocd"
    assert im.match("quay.io/argoproj/argocd:%s@sha256:%s" % (argocd, "a" * 64)) == "argocd"
    assert im.match("quay.io/argoproj/argocd:v0.0.1") is None  # another release stays simulated
    assert im.match("quay.io/argoproj/argocd:%s@sha256:abc" % argocd) is None  # a malformed digest


def test_a_pod_is_backed_only_when_every_image_is():
    im = images.ImageMap()
    argocd = "quay.io/argoproj/argocd:%s" % VERSIONS["components"]["argocd"]["version"]
    assert im.classify(_pod(argocd)) == (True, "")
    backed, why = im.classify(_pod(argocd, init=["ghcr.io/dexidp/dex:v2.46.0"]))
    assert not backed and "ghcr.io/dexidp/dex:v2.46.0 is not in lab/runtime/images.yml" in why


def test_an_image_whose_binary_is_not_built_stays_simulated_with_the_build_command(tmp_path):
    im = images.ImageMap(cache=str(tmp_path))  # an empty cache: nothing built
    kueue = "registry.k8s.io/kueue/kueue:%s" % VERSIONS["components"]["kueue"]["version"]
    backed, why = im.classify(_pod(kueue))
    assert not backed
    assert "kueue is not built (lab/build.sh kueue)" in why
    assert im.lookup(kueue) is None and im.match(kueue) == "kueue"
    assert "shell" not in im.unbuilt  # host programs only: always available


def test_the_kwok_selector_is_the_runtime_rule(tmp_path):
    """kwok's stages skip exactly the pods the runtime backs: same regular expression."""
    built = images.built_map(MAP, VERSIONS, None)
    rx = re.compile(images.backed_regex(built, VERSIONS))
    im = images.ImageMap()
    for ref in ("quay.io/argoproj/argocd:%s" % VERSIONS["components"]["argocd"]["version"], "docker.io/library/busybox:1.37", "nginx:1.27"):
        assert bool(rx.match(ref)) == (im.lookup(ref) is not None), ref
    selector = images.kwok_selector(built, VERSIONS)
    assert selector.startswith("[(.spec.containers // [])[].image") and "all(test(" in selector
    narrowed = images.kwok_selector(images.built_map(MAP, VERSIONS, str(tmp_path)), VERSIONS)
    assert "kueue" in selector and "kueue" not in narrowed  # unbuilt images leave the selector


def test_pod_addresses_are_loopback_unique_and_reused_after_release():
    ipam = network.IPAM()
    a, b = ipam.allocate(), ipam.allocate()
    assert a != b and a.startswith("127.128.") and not a.endswith((".0", ".1"))
    ipam.release(a)
    assert ipam.allocate() == a
    ipam.reserve("127.128.0.200")
    assert "127.128.0.200" not in {ipam.allocate() for _ in range(300)}


def _launch(argv, **kw):
    pod = {"metadata": {"name": "m-0", "namespace": "serving"}}
    ports = iter(range(40000, 40100))
    return translate.Launch(
        pod=pod, container={}, argv=argv, env=dict(kw.get("env", {})), pod_ip="127.128.0.9", alloc_port=lambda: next(ports)
    )


def test_vllm_serve_becomes_the_simulator_with_the_same_names_port_and_engine_limits():
    launch = _launch(
        [
            "vllm",
            "serve",
            "--model=/models/model",
            "--served-model-name",
            "qwen",
            "qwen-alias",
            "--port=8000",
            "--max-model-len=8192",
            "--max-num-seqs",
            "16",
            "--gpu-memory-utilization=0.6",
        ]
    )
    translate.vllm(launch)
    argv = launch.argv
    assert argv[:3] == ["llm-d-inference-sim", "--port", "8000"]
    assert argv[argv.index("--served-model-name") + 1 : argv.index("--served-model-name") + 3] == ["qwen", "qwen-alias"]
    assert argv[argv.index("--max-model-len") + 1] == "8192" and argv[argv.index("--max-num-seqs") + 1] == "16"
    assert "--gpu-memory-utilization" not in " ".join(argv)  # vLLM-only flags are dropped
    assert "--enable-kvcache" in argv and argv.count("--max-num-seqs") == 1
    assert launch.env["POD_IP"] == "127.128.0.9"
    zmq = argv[argv.index("--zmq-endpoint") + 1]
    assert zmq.startswith("tcp://127.0.0.1:")


def test_the_weights_prestage_writes_only_its_marker():
    launch = _launch(
        ["python3", "-c", "from huggingface_hub import snapshot_download; snapshot_download('Qwen/x')"], env={"MODEL_REPO": "Qwen/x"}
    )
    translate.vllm(launch)
    assert launch.argv[:2] == ["sh", "-c"] and ".llm-platform-staged" in launch.argv[2]
    assert launch.notes


@pytest.mark.parametrize("entry", sorted(MAP))
def test_every_entry_names_sources_that_exist_or_are_built(entry):
    """A host file an entry names is on this machine (system-deps.sh installs them)."""
    for path, src in (MAP[entry].get("files") or {}).items():
        if "host" in src:
            assert os.path.exists(src["host"]), "%s: %s needs %s" % (entry, path, src["host"])
        if "bin" in src:
            images.binary_path("/nonexistent", VERSIONS, src["bin"])  # a component builds it


def test_capabilities_follow_the_security_context():
    sys.path.insert(0, os.path.join(REPO, "lab", "runtime"))  # sandbox.py runs as a script: flat imports
    import sandbox

    default = sandbox.kept_capabilities({})
    assert sandbox.CAPS["NET_BIND_SERVICE"] in default and sandbox.CAPS["SYS_ADMIN"] not in default
    assert sandbox.kept_capabilities({"drop": ["ALL"]}) == set()
    assert sandbox.kept_capabilities({"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}) == {sandbox.CAPS["NET_BIND_SERVICE"]}
    assert sandbox.CAPS["KILL"] not in sandbox.kept_capabilities({"drop": ["CAP_KILL"]})


def test_a_layer_linking_into_the_checkout_is_rebuilt_for_another_checkout(tmp_path, monkeypatch):
    # The runtime's state directory (and its layers) outlives a clone; a layer built from one
    # clone must not run its lab/ from another one, nor dangle once that clone is gone.
    entry = {"files": {"/opt/llm-platform/lab": {"lab": "."}}}
    first, second = tmp_path / "clone-a" / "lab", tmp_path / "clone-b" / "lab"
    for lab in (first, second):
        lab.mkdir(parents=True)
    monkeypatch.setattr(images, "LAB", str(first))
    layer = images.build_layer("gateway", entry, VERSIONS, str(tmp_path), None, str(tmp_path / "layers"))
    link = os.path.join(layer, "opt", "llm-platform", "lab")
    assert os.readlink(link) == str(first)
    assert images.build_layer("gateway", entry, VERSIONS, str(tmp_path), None, str(tmp_path / "layers")) == layer
    assert os.readlink(link) == str(first), "the same checkout reuses its layer"
    monkeypatch.setattr(images, "LAB", str(second))
    images.build_layer("gateway", entry, VERSIONS, str(tmp_path), None, str(tmp_path / "layers"))
    assert os.readlink(link) == str(second)
    # A kept layer whose link target is gone (the clone deleted, the same path) is rebuilt.
    monkeypatch.setattr(images, "LAB", str(first))
    images.build_layer("gateway", entry, VERSIONS, str(tmp_path), None, str(tmp_path / "layers"))
    first.rename(tmp_path / "clone-a" / "gone")
    first.mkdir()
    (first / "marker").write_text("new")
    os.unlink(link)
    os.symlink(str(tmp_path / "clone-a" / "nowhere"), link)
    images.build_layer("gateway", entry, VERSIONS, str(tmp_path), None, str(tmp_path / "layers"))
    assert os.path.exists(os.path.join(link, "marker")), "a dangling link is rebuilt"
