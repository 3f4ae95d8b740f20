#!/usr/bin/env python
"""Query lab/versions.yml for lab/build.sh (prints shell-friendly lines).

Usage:
  versions.py components                      -> one component name per line
  versions.py get COMPONENT FIELD             -> scalar field (module, version, build, ldflags)
  versions.py extra-modules COMPONENT         -> one module per line
  versions.py group NAME                      -> the components of a group (lab, living, ...)
  versions.py max-toolchain                   -> the newest GOTOOLCHAIN a component pins (downloads need it)
  versions.py replaces COMPONENT              -> old=new@version lines for a wrapper module
  versions.py drop-replaces COMPONENT         -> one module path per line (module-copy builds)
  versions.py keep-registrations COMPONENT DIR -> in a module copy, keep only the blank imports
                                                 `registrations:` lists (prints what was kept)
  versions.py binaries COMPONENT              -> "name<TAB>package" per line
  versions.py version-check COMPONENT BINARY  -> "expect<TAB>arg1<TAB>arg2..." (empty: none)
  versions.py crd-modules                     -> "module@version" per line (unique)
  versions.py crd-manifest DIRS_JSON OUT      -> write the CRD manifest (absolute file paths)
  versions.py mirror-manifest DIRS_JSON OUT   -> write the mirrors manifest {dest: {src, edits, source, override}}
"""

import hashlib
import json
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load():
    path = os.environ.get("LAB_VERSIONS_FILE", os.path.join(HERE, "versions.yml"))
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def mirror_module(data, mirror):
    """{module, version} of a mirrors entry (its own, or its lab component's)."""
    if "component" in mirror:
        comp = data["components"][mirror["component"]]
        return {"module": comp["module"], "version": comp["version"]}
    return {"module": mirror["module"], "version": mirror["version"]}


def keep_registrations(spec, root):
    """Rewrite each registration file of a module copy so that only the listed blank imports
    remain. A listed import the file lacks is an error: a bumped module cannot drift silently."""
    kept = []
    for reg in spec.get("registrations", []):
        path = os.path.join(root, reg["file"])
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        out, found = [], set()
        for line in lines:
            m = re.match(r'^\s*_ "([^"]+)"', line)
            if m and m.group(1).startswith(reg["prefix"]):
                name = m.group(1)[len(reg["prefix"]) :]
                if name not in reg["keep"]:
                    continue
                found.add(name)
            out.append(line)
        missing = sorted(set(reg["keep"]) - found)
        if missing:
            raise SystemExit(f"{reg['file']}: no blank import of {reg['prefix']}{missing[0]} to keep")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(out))
        kept.append(f"{reg['file']}={','.join(reg['keep'])}")
    return " ".join(kept)


def main(argv):
    data = load()
    comps = data["components"]
    cmd = argv[0]
    if cmd == "components":
        print("\n".join(comps))
    elif cmd == "go-min":
        print(data["go"]["min_version"])
    elif cmd == "get":
        print(comps[argv[1]].get(argv[2], ""))
    elif cmd == "group":
        print("\n".join(c for c, spec in comps.items() if spec.get("group", "lab") == argv[1]))
    elif cmd == "max-toolchain":
        chains = sorted({c["toolchain"] for c in comps.values() if c.get("toolchain")}, key=lambda t: [int(x) for x in t[2:].split(".")])
        print(chains[-1] if chains else "local")
    elif cmd == "replaces":
        print("\n".join(comps[argv[1]].get("replaces", [])))
    elif cmd == "drop-replaces":
        print("\n".join(comps[argv[1]].get("drop_replaces", [])))
    elif cmd == "keep-registrations":
        print(keep_registrations(comps[argv[1]], argv[2]))
    elif cmd == "extra-modules":
        print("\n".join(comps[argv[1]].get("extra_modules", [])))
    elif cmd == "binaries":
        for name, spec in comps[argv[1]]["binaries"].items():
            print(f"{name}\t{spec['package']}")
    elif cmd == "version-check":
        spec = comps[argv[1]]["binaries"][argv[2]]
        if spec.get("version_cmd"):
            print("\t".join([spec["expect"], *spec["version_cmd"]]))
    elif cmd == "crd-modules":
        seen = []
        for entry in data["crds"] + [mirror_module(data, m) for m in data.get("mirrors", [])]:
            mv = f"{entry['module']}@{entry['version']}"
            if mv not in seen:
                seen.append(mv)
        print("\n".join(seen))
    elif cmd == "mirror-manifest":
        with open(argv[1], encoding="utf-8") as fh:
            dirs = json.load(fh)
        out = {}
        for m in data.get("mirrors", []):
            mod = mirror_module(data, m)
            # An overlay is a directory of the checkout that runs the mirror (relative here).
            src = m["overlay"] if "overlay" in m else os.path.join(dirs[f"{mod['module']}@{mod['version']}"], m["path"])
            if not os.path.isdir(os.path.join(os.path.dirname(HERE), src)):
                sys.exit(f"ERROR: mirror source {src} ({m['dest']}) does not exist")
            out[m["dest"]] = {
                "src": src,
                "module_dir": dirs[f"{mod['module']}@{mod['version']}"],
                "edits": m.get("edits", {}),
                "source": m["source"],
                "override": m["override"],
            }
        with open(argv[2], "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)
    elif cmd == "crd-manifest":
        with open(argv[1], encoding="utf-8") as fh:
            dirs = json.load(fh)
        out = []
        for crd in data["crds"]:
            base = dirs[f"{crd['module']}@{crd['version']}"]
            files = [os.path.join(base, p) for p in crd["paths"]]
            missing = [f for f in files if not os.path.isfile(f)]
            if missing:
                sys.exit(f"ERROR: CRD files missing from {crd['module']}@{crd['version']}: {missing}")
            entries = []
            for path in files:
                with open(path, "rb") as fh:
                    raw = fh.read()
                digest = hashlib.sha256(raw).hexdigest()[:20]
                docs = [d for d in yaml.load_all(raw.decode("utf-8"), Loader=LOADER) if d]
                for doc in docs:
                    if doc.get("kind") != "CustomResourceDefinition":
                        continue
                    spec = doc["spec"]
                    entries.append(
                        {
                            "path": path,
                            "source": f"{crd['module']}@{crd['version']}#{digest}",
                            "crd": doc["metadata"]["name"],
                            "group": spec["group"],
                            "kind": spec["names"]["kind"],
                            "plural": spec["names"]["plural"],
                            "scope": spec["scope"],
                            "served": [v["name"] for v in spec["versions"] if v.get("served")],
                            "storage": next(v["name"] for v in spec["versions"] if v.get("storage")),
                        }
                    )
            out.append({"name": crd["name"], "module": crd["module"], "version": crd["version"], "files": entries})
        with open(argv[2], "w", encoding="utf-8") as fh:
            json.dump({"crds": out}, fh, indent=2)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv[1:])
