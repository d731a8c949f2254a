#!/usr/bin/env bash
# Builds helm from its Go module (helm.sh/helm/v4) into a cache outside the repository, keyed by
# version, the way test/controlplane/build.sh builds the control plane. Idempotent: a cached binary
# that reports the wanted version is reused. Prints the binary's path on stdout.
#   Knobs: FORGE_HELM_VERSION, FORGE_HELM_CACHE
set -euo pipefail
HELM_VERSION="${FORGE_HELM_VERSION:-v4.3.2}"
CACHE_ROOT="${FORGE_HELM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cardano-forge/helm}"
BIN_DIR="$CACHE_ROOT/bin/helm-$HELM_VERSION"
OUT="$BIN_DIR/helm"
log() { printf '[helm-build] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

build() {
  if [[ -x "$OUT" ]] && "$OUT" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
    log "cached: $OUT"
    return 0
  fi
  command -v go >/dev/null || die "go is required (Go 1.26 with the module proxy)"
  mkdir -p "$BIN_DIR"
  export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=mod"
  # A module of its own, so helm's dependency versions are exactly the release's.
  local mod="$CACHE_ROOT/mod/helm-$HELM_VERSION"
  rm -rf "$mod" && mkdir -p "$mod"
  (
    cd "$mod"
    go mod init forge.local/helm >/dev/null 2>&1
    go get -tool "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
    local started=$SECONDS
    log "go build helm $HELM_VERSION"
    go build -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
      -o "$OUT.tmp" helm.sh/helm/v4/cmd/helm
    mv "$OUT.tmp" "$OUT"
    log "built in $((SECONDS - started)) s"
  )
  "$OUT" version --template '{{.Version}}' | grep -qx "$HELM_VERSION" ||
    die "$OUT does not report $HELM_VERSION (the version ldflag path may have moved)"
}

case "${1:-build}" in
  build) build; echo "$OUT" ;;
  path) echo "$OUT" ;;
  *) die "usage: $0 [build|path]" ;;
esac
