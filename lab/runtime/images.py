"""The image map (images.yml): which images the runtime backs, the kwok selector that makes kwok
skip them (rendered from the same regular expression), and each image's filesystem layer."""

from __future__ import annotations

import os
import re
import shutil

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.dirname(HERE)
DIGEST = r"(@sha256:[0-9a-f]{64})?"
LAYER_FORMAT = "layer-format-2:"  # bump when build_layer lays files out differently


def load_versions() -> dict:
    with open(os.path.join(LAB, "versions.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_map(path: str | None = None) -> dict:
    with open(path or os.path.join(HERE, "images.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["images"]


def _tags(entry: dict, versions: dict) -> list[str] | None:
    """Allowed tags, or None for any tag."""
    tags = entry.get("tags", "any")
    if tags == "any":
        return None
    if isinstance(tags, str) and tags.startswith("component:"):
        bare = versions["components"][tags.split(":", 1)[1]]["version"].removeprefix("v")
        return ["v" + bare, bare]  # images tag releases with or without the v
    return [str(t) for t in tags]


def entry_regex(entry: dict, versions: dict) -> str:
    repos = "|".join(re.escape(r) for r in entry["repositories"])
    tags = _tags(entry, versions)
    tag = "(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?" if tags is None else "(:(%s))" % "|".join(re.escape(t) for t in tags)
    return "(%s)%s%s" % (repos, tag, DIGEST)


def backed_regex(image_map: dict, versions: dict) -> str:
    """One anchored expression for every image the runtime backs. RE2 (kwok's gojq) and Python's
    re agree on it: only alternation, classes, bounded repeats and optional groups."""
    return "^(%s)$" % "|".join(entry_regex(e, versions) for e in image_map.values())


def kwok_selector(image_map: dict, versions: dict) -> str:
    """The jq query kwok's pod stages use (operator NotIn ["true"]): true when every image of the
    pod is backed, i.e. the pod belongs to the runtime."""
    rx = backed_regex(image_map, versions).replace("\\", "\\\\").replace('"', '\\"')
    return '[(.spec.containers // [])[].image, (.spec.initContainers // [])[].image] | all(test("%s"))' % rx


def unbuilt(image_map: dict, versions: dict, cache: str | None) -> dict[str, str]:
    """{image name: why} for the entries whose binaries lab/build.sh has not built into cache.
    Such an image stays simulated (kwok) instead of failing to start, so a lab built for a
    smaller tier (lab/build.sh lab living) still converges; None checks nothing."""
    if cache is None:
        return {}
    out = {}
    for name, entry in image_map.items():
        for src in (entry.get("files") or {}).values():
            if "bin" in src and not os.path.exists(binary_path(cache, versions, src["bin"])):
                comp = next(c for c, spec in versions["components"].items() if src["bin"] in spec["binaries"])
                out[name] = "%s is not built (lab/build.sh %s)" % (src["bin"], comp)
                break
    return out


def built_map(image_map: dict, versions: dict, cache: str | None) -> dict:
    """The entries the runtime can back with what is built."""
    missing = unbuilt(image_map, versions, cache)
    return {name: entry for name, entry in image_map.items() if name not in missing}


class ImageMap:
    def __init__(self, path: str | None = None, versions: dict | None = None, cache: str | None = None):
        full = load_map(path)
        self.versions = versions or load_versions()
        self.unbuilt = unbuilt(full, self.versions, cache)
        self.map = {name: entry for name, entry in full.items() if name not in self.unbuilt}
        self._compiled = [(name, re.compile("^" + entry_regex(e, self.versions) + "$")) for name, e in full.items()]

    def lookup(self, image: str) -> tuple[str, dict] | None:
        name = self.match(image)
        return (name, self.map[name]) if name in self.map else None

    def match(self, image: str) -> str | None:
        """The map's name for image, built or not."""
        for name, rx in self._compiled:
            if rx.match(image):
                return name
        return None

    def classify(self, pod: dict) -> tuple[bool, str]:
        """(backed, reason): backed when every container image is in the map and built."""
        spec = pod.get("spec", {})
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            name = self.match(c.get("image", ""))
            if name is None:
                return False, "image %s is not in lab/runtime/images.yml" % c.get("image")
            if name in self.unbuilt:
                return False, "image %s: %s" % (c.get("image"), self.unbuilt[name])
        return True, ""


def binary_path(cache: str, versions: dict, name: str) -> str:
    for comp, spec in versions["components"].items():
        if name in spec["binaries"]:
            return os.path.join(cache, "bin", "%s-%s" % (comp, spec["version"]), name)
    raise KeyError("no lab component builds a binary named %r (lab/versions.yml)" % name)


def host_path(path: str) -> str:
    """An image path as it lands on this host's root: a first component that is a symlink here
    (merged /usr: /bin -> usr/bin) is replaced by its target, so the file is seen at `path`."""
    parts = path.lstrip("/").split("/", 1)
    top = os.path.join("/", parts[0])
    if len(parts) == 2 and os.path.islink(top):
        target = os.readlink(top)
        return "/" + os.path.join(target.lstrip("/"), parts[1])
    return path


def _escape_module(path: str) -> str:
    """The Go module cache's case encoding (an upper-case letter becomes !<lower>)."""
    return "".join("!" + c.lower() if c.isupper() else c for c in path)


def _links_resolve(layer: str, entry: dict) -> bool:
    """Whether every file the layer links to outside itself (a {lab: ...} tree, the LiteLLM
    install) still exists: a cache or checkout removed under a kept layer rebuilds it."""
    for path, src in (entry.get("files") or {}).items():
        if ("lab" in src or "prefix" in src) and not os.path.exists(os.path.join(layer, host_path(path).lstrip("/"))):
            return False
    return True


def build_layer(name: str, entry: dict, versions: dict, cache: str, litellm_prefix, dest: str) -> str:
    """Assemble the image's layer (files, dirs, passwd) under dest/<name>; returns its path.
    Binaries are hard-linked when possible (same filesystem), else copied; the layer is rebuilt
    only when its recipe changes. The recipe holds the checkout's lab/ too: a layer links into it
    ({lab: ...} files), and the runtime's state directory (with its layers) outlives a checkout,
    so a layer built by another clone sharing the cache would run that clone's code, or a
    dangling link once it is gone."""
    layer = os.path.join(dest, name)
    recipe = LAYER_FORMAT + repr(sorted(entry.items())) + repr(versions.get("components", {})) + os.path.realpath(LAB)
    stamp = os.path.join(layer, ".recipe")
    if os.path.exists(stamp) and open(stamp, encoding="utf-8").read() == recipe and _links_resolve(layer, entry):  # noqa: SIM115
        return layer
    shutil.rmtree(layer, ignore_errors=True)
    os.makedirs(layer)
    for path, src in (entry.get("files") or {}).items():
        target = os.path.join(layer, host_path(path).lstrip("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if "link" in src:
            os.symlink(src["link"], target)
            continue
        if "bin" in src:
            origin = binary_path(cache, versions, src["bin"])
        elif "host" in src:
            origin = src["host"]
        elif "lab" in src:
            origin = os.path.join(LAB, src["lab"])
        elif "module" in src:
            comp = versions["components"][src["module"]]
            origin = os.path.join(cache, "go", "mod", "%s@%s" % (_escape_module(comp["module"]), comp["version"]), src["path"])
        elif "prefix" in src:
            origin = os.path.join(litellm_prefix(), src["path"])
        else:
            raise ValueError("image %s: file %s has no source" % (name, path))
        if not os.path.exists(origin):
            raise FileNotFoundError("image %s needs %s for %s (not built or not installed)" % (name, origin, path))
        if "prefix" in src or os.path.isdir(origin):  # venv scripts keep absolute shebangs; trees are linked
            os.symlink(os.path.realpath(origin), target)
            continue
        try:
            os.link(os.path.realpath(origin), target)
        except OSError:
            shutil.copy2(origin, target)
        os.chmod(target, 0o755)  # noqa: S103 - image files are world-readable, as in any image
    for spec in entry.get("dirs") or []:
        path, _unused, mode = spec.partition(":")
        target = os.path.join(layer, host_path(path).lstrip("/"))
        os.makedirs(target, exist_ok=True)
        os.chmod(target, 0o1777 if mode == "tmp" else 0o777)
    if entry.get("users"):
        os.makedirs(os.path.join(layer, "etc"), exist_ok=True)
        with open("/etc/passwd", encoding="utf-8") as handle:
            passwd = handle.read()
        with open(os.path.join(layer, "etc", "passwd"), "w", encoding="utf-8") as handle:
            handle.write(passwd.rstrip("\n") + "\n" + "\n".join(entry["users"]) + "\n")
        os.chmod(os.path.join(layer, "etc", "passwd"), 0o644)
    os.chmod(layer, 0o755)  # noqa: S103 - every container user traverses its image layer
    with open(stamp, "w", encoding="utf-8") as handle:
        handle.write(recipe)
    return layer
