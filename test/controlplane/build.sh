#!/usr/bin/env bash
# Builds a real kube-apiserver (from the k8s.io/kubernetes Go module) and etcd (from
# go.etcd.io/etcd/server/v3) into a cache outside the repository, keyed by version.
# Idempotent: a cached binary that answers --version is reused.
#   Knobs: FORGE_K8S_VERSION, FORGE_ETCD_VERSION, FORGE_CONTROLPLANE_CACHE
set -euo pipefail
K8S_VERSION="${FORGE_K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${FORGE_ETCD_VERSION:-v3.6.16}"
CACHE_ROOT="${FORGE_CONTROLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cardano-forge/controlplane}"
BIN_DIR="$CACHE_ROOT/bin/k8s-$K8S_VERSION-etcd-$ETCD_VERSION"
log() { printf '[controlplane-build] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
command -v go >/dev/null || die "go is required (Go 1.26 with the module proxy)"
mkdir -p "$BIN_DIR"
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=mod"

build_etcd() {
  local out="$BIN_DIR/etcd"
  if [[ -x "$out" ]] && "$out" --version >/dev/null 2>&1; then log "cached: $out"; return 0; fi
  # A module of its own: minimum version selection must not mix etcd's deps with the apiserver's.
  local mod="$CACHE_ROOT/mod/etcd-$ETCD_VERSION"
  rm -rf "$mod" && mkdir -p "$mod"
  (
    cd "$mod"
    go mod init forge.local/etcd >/dev/null 2>&1
    go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    log "go build etcd $ETCD_VERSION"
    go build -trimpath -ldflags "-s -w" -o "$out.tmp" go.etcd.io/etcd/server/v3
    mv "$out.tmp" "$out"
  )
}

build_apiserver() {
  local out="$BIN_DIR/kube-apiserver"
  if [[ -x "$out" ]] && "$out" --version >/dev/null 2>&1; then log "cached: $out"; return 0; fi
  local mod="$CACHE_ROOT/mod/kube-apiserver-$K8S_VERSION"
  rm -rf "$mod" && mkdir -p "$mod"
  (
    cd "$mod"
    go mod init forge.local/kube-apiserver >/dev/null 2>&1
    local kgomod
    kgomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
      sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
    [[ -f "$kgomod" ]] || die "could not download k8s.io/kubernetes@$K8S_VERSION"
    # k8s.io/kubernetes requires its staging modules at v0.0.0 and redirects them to ./staging;
    # as a dependency those redirects are ignored, so pin each to the matching v0.Y.Z tag.
    # The list is derived from the release's own go.mod because it changes between releases.
    local staging="v0.${K8S_VERSION#v1.}" args=() m
    while read -r m; do args+=("-replace=$m=$m@$staging"); done < <(
      sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$kgomod")
    (( ${#args[@]} >= 25 )) || die "parsed only ${#args[@]} staging modules from $kgomod"
    log "replacing ${#args[@]} staging modules with $staging"
    go mod edit "${args[@]}"
    local gd; gd=$(sed -n 's/^godebug[[:space:]]*default=\(go[0-9.]*\).*/\1/p' "$kgomod" | head -n1 || true)
    [[ -n "$gd" ]] && go mod edit -godebug="default=$gd"
    go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION"
    local minor; minor=$(cut -d. -f2 <<<"$K8S_VERSION")
    local v="k8s.io/component-base/version"
    local ld="-s -w -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
    ld+=" -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
    log "go build kube-apiserver $K8S_VERSION (cold: many minutes on 2 cores)"
    go build -trimpath -ldflags "$ld" -o "$out.tmp" k8s.io/kubernetes/cmd/kube-apiserver
    mv "$out.tmp" "$out"
  )
}

case "${1:-build}" in
  build) build_etcd; build_apiserver; "$BIN_DIR/kube-apiserver" --version >&2; "$BIN_DIR/etcd" --version | head -n1 >&2; echo "$BIN_DIR" ;;
  bindir) echo "$BIN_DIR" ;;
  *) die "usage: $0 [build|bindir]" ;;
esac
