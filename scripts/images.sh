#!/usr/bin/env bash
# Container images built on this machine, with no registry to pull from (CI and developers):
#   pier-base/debian:bookworm  a Debian root from `debootstrap --variant=minbase` (plus CA
#                              certificates), from the same mirror apt uses here, `docker import`ed
#   pier-agent:<version>       the agent package on that base (scripts/images/agent.Dockerfile)
# Each image is built once per machine and skipped when present (the agent image: when it was
# built from the same sources); FORCE=1 rebuilds them. The base stays minimal because CI builds it
# on every fresh machine: the local agent image has no git, so deployments from git sources need a
# host install or the production image.
# Production images come from agent-relay/Dockerfile (the official node image) instead.
#
#   bash scripts/images.sh            both
#   bash scripts/images.sh base       only the Debian base
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[images] $*" >&2; }

SUITE=bookworm
BASE_IMAGE="pier-base/debian:$SUITE"
VERSION=$(node -p 'require("./agent-relay/package.json").version')
AGENT_IMAGE="pier-agent:$VERSION"
NODE_MAJOR=22
what=${1:-all}

present() { [ -z "${FORCE:-}" ] && docker image inspect "$1" >/dev/null 2>&1; }

# The Debian archive apt uses (deb822 .sources or one-line .list), not the security archive.
apt_mirror() {
  local uri
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' | grep -v -- '-security' | head -n1 || true)
  if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' | grep -v -- '-security' | head -n1 || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

build_base() {
  if present "$BASE_IMAGE"; then
    log "$BASE_IMAGE is present"
    return
  fi
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  local mirror root started=$SECONDS
  mirror=$(apt_mirror)
  root=$(mktemp -d /tmp/pier-base-XXXXXX)
  # --one-file-system: debootstrap mounts /proc and /sys in the root while it runs.
  trap 'umount "$root/proc" "$root/sys" 2>/dev/null; rm -rf --one-file-system "$root"' RETURN
  log "debootstrap --variant=minbase $SUITE from $mirror"
  debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$root" "$mirror" >"$root.log" 2>&1 || {
    tail -n 30 "$root.log" >&2
    exit 1
  }
  rm -f "$root.log"
  # Nothing the image does not need: package lists and caches.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
  tar -C "$root" -c . | docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  log "$BASE_IMAGE imported ($((SECONDS - started)) s)"
}

# What the agent image is built from; a change (even uncommitted) rebuilds it.
agent_sources() {
  find agent-relay/src agent-relay/package.json agent-relay/build.ts scripts/images/agent.Dockerfile -type f ! -name '*.test.ts' -print0 |
    sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
}

build_agent() {
  local sources
  sources=$(agent_sources)
  if [ -z "${FORCE:-}" ] && [ "$(docker image inspect -f '{{index .Config.Labels "dev.pier.sources"}}' "$AGENT_IMAGE" 2>/dev/null)" = "$sources" ]; then
    log "$AGENT_IMAGE is present (sources $sources)"
    return
  fi
  local context arch started=$SECONDS
  context=$(mktemp -d /tmp/pier-agent-image-XXXXXX)
  trap 'rm -rf "$context"' RETURN
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) arch=$(uname -m) ;;
  esac
  log "fetching node-linux-$arch@$NODE_MAJOR from the npm registry; packing the agent"
  (cd "$context" && npm pack --silent "node-linux-$arch@$NODE_MAJOR" >/dev/null && mv node-linux-*.tgz node.tgz)
  npm pack --silent -w agent-relay --pack-destination "$context" >/dev/null 2>&1
  mv "$context"/pier-agent-*.tgz "$context/pier-agent.tgz"
  cp scripts/images/agent.Dockerfile "$context/Dockerfile"
  docker build -q --build-arg "BASE=$BASE_IMAGE" --label "dev.pier.sources=$sources" -t "$AGENT_IMAGE" -t pier-agent:latest "$context" \
    >"$context/build.log" 2>&1 || {
    cat "$context/build.log" >&2
    exit 1
  }
  log "$AGENT_IMAGE built from sources $sources ($((SECONDS - started)) s)"
}

case "$what" in
  base) build_base ;;
  agent | all) build_base && build_agent ;;
  *)
    echo "usage: scripts/images.sh [all|base|agent]" >&2
    exit 64
    ;;
esac
