#!/usr/bin/env bash
# Debian packages the suite and the lab need. Installs only what is missing,
# so a warm machine pays nothing; a fresh one installs from Debian's mirror.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# command -> package
declare -A WANT=(
  [ip]=iproute2
  [psql]=postgresql-client
  [pg_ctl]=postgresql
  [git]=git
  [capsh]=libcap2-bin
  [flock]=util-linux
  [prometheus]=prometheus
  [node]=nodejs
  [npm]=npm
  [redis-server]=redis-server
  [unshare]=util-linux
  [nsenter]=util-linux
)
missing=()
for cmd in "${!WANT[@]}"; do
  case "$cmd" in
    pg_ctl) [[ -x /usr/lib/postgresql/15/bin/pg_ctl ]] || missing+=("${WANT[$cmd]}") ;;
    *) command -v "$cmd" >/dev/null 2>&1 || missing+=("${WANT[$cmd]}") ;;
  esac
done
if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || die "missing Debian packages ${missing[*]} and not root to install them"
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's prometheus package starts a system instance on every interface where
# systemd runs; tests start their own on 127.0.0.1 only, so keep that one off.
# The same for redis-server (the living lab runs Argo CD's Redis as a pod process).
for svc in prometheus redis-server; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  fi
done
