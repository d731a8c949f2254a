#!/usr/bin/env bash
# The production install recipe. The Dockerfile runs exactly these steps, and so does the test that
# installs the tree into a clean directory and runs its entrypoint (test/integration/image.test.ts),
# so what is tested is what ships; test/unit/dockerfile.test.ts fails if the Dockerfile drifts.
#
#   recipe.sh build            in the repository: npm ci, then build every workspace (tsc)
#   recipe.sh pack <out>       npm pack each workspace (only its published files), lay out <out>/app:
#                              the root manifest + lockfile and each workspace unpacked in its place
#   recipe.sh install <app>    npm ci --omit=dev in <app>: the lockfile's exact production versions
#
# The app tree is a normal npm project: a derived image adds third-party plugins with
# `npm install <package>` in it (docs/operations.md, "Third-party plugins").
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { printf '[image-recipe] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

workspaces() {
  # The root manifest's workspace folders, one per line (node is always there: it runs the product).
  node -e 'for (const w of require(process.argv[1]).workspaces) console.log(w)' "$1/package.json"
}

build() {
  cd "$REPO"
  npm ci --no-audit --no-fund --ignore-scripts
  npm run build
}

pack() {
  local out="${1:?usage: recipe.sh pack <out>}"
  rm -rf "$out" && mkdir -p "$out/pack" "$out/app"
  out="$(cd "$out" && pwd)"
  cd "$REPO"
  cp package.json package-lock.json .npmrc "$out/app/"
  local ws tarball
  while read -r ws; do
    [[ -f "$ws/dist/index.js" ]] || die "$ws/dist/index.js missing: run 'recipe.sh build' (or npm run build) first"
    # --ignore-scripts: nothing is built here; the package gets exactly its "files" (dist, README).
    tarball="$(cd "$ws" && npm pack --ignore-scripts --silent --pack-destination "$out/pack")"
    mkdir -p "$out/app/$ws"
    tar -xzf "$out/pack/$tarball" -C "$out/app/$ws" --strip-components=1
    log "packed $ws ($tarball)"
  done < <(workspaces "$REPO")
}

install() {
  local app="${1:?usage: recipe.sh install <app>}"
  cd "$app"
  # --ignore-scripts: no production dependency needs one, and the root "prepare" (tsc) must not run.
  npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund
  [[ -f packages/framework/dist/cli/main.js ]] || die "entrypoint packages/framework/dist/cli/main.js missing in $app"
}

case "${1:-}" in
  build) build ;;
  pack) pack "${2:-}" ;;
  install) install "${2:-}" ;;
  *) die "usage: recipe.sh build | pack <out> | install <app>" ;;
esac
