#!/usr/bin/env bash
# Container images built on this machine, with no registry to pull from (CI and developers):
#   pier-base/debian:bookworm  a Debian root from `debootstrap --variant=minbase` (plus CA
#                              certificates), from the same mirror apt uses here, `docker import`ed
#   pier-agent:<version>       the agent package on that base (scripts/images/agent.Dockerfile)
#   pier-test/postgres:15, pier-test/mariadb:10.11, pier-test/redis:7
#                              database servers for the tests, from Debian bookworm's packages on
#                              that base, with entrypoints that follow the official images'
#                              environment (scripts/images/<engine>-entrypoint.sh), so Pier's
#                              database services run on them unchanged
# Each image is built once per machine and skipped when present (the agent image: when it was
# built from the same sources); FORCE=1 rebuilds them. The base stays minimal because CI builds it
# on every fresh machine: the local agent image has no git, so deployments from git sources need a
# host install or the production image.
# Production images come from agent-relay/Dockerfile (the official node image) instead.
#
#   bash scripts/images.sh            all of them
#   bash scripts/images.sh base       only the Debian base
#   bash scripts/images.sh agent      the base and the agent
#   bash scripts/images.sh databases  the base and the database images
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

DB_PACKAGES_IMAGE="pier-test/databases-base:$SUITE"
DB_IMAGES=(postgres:15 mariadb:10.11 redis:7)

# One layer with the three servers' packages (one apt run: one download, one dpkg pass), then
# each engine's image is that layer plus its entrypoint.
build_database_packages() {
  if present "$DB_PACKAGES_IMAGE"; then
    log "$DB_PACKAGES_IMAGE is present"
    return
  fi
  local name="pier-images-db-$$" started=$SECONDS
  trap 'docker rm -f "$name" >/dev/null 2>&1 || true; trap - RETURN' RETURN
  log "installing postgresql-15, mariadb-server and redis-server from $SUITE into $DB_PACKAGES_IMAGE"
  # --network host: the engine's bridge may have no resolver here, the host has. policy-rc.d:
  # nothing starts during the install; no main cluster: the entrypoint makes one in PGDATA;
  # unsafe-io: no fsync per file (a throwaway container; the commit is what counts).
  docker run --name "$name" --network host --label dev.pier.managed=false "$BASE_IMAGE" bash -euc '
    export DEBIAN_FRONTEND=noninteractive
    printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    mkdir -p /etc/postgresql-common && echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-unsafe-io \
      postgresql-15 mariadb-server mariadb-client redis-server >/dev/null
    rm -rf /var/lib/mysql/* /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb /usr/share/doc/* /usr/share/man/*
  ' >"/tmp/$name.log" 2>&1 || {
    tail -n 30 "/tmp/$name.log" >&2
    exit 1
  }
  rm -f "/tmp/$name.log"
  docker commit --change 'CMD ["/bin/bash"]' "$name" "$DB_PACKAGES_IMAGE" >/dev/null
  log "$DB_PACKAGES_IMAGE built ($((SECONDS - started)) s)"
}

build_database_image() {
  local image="pier-test/$1" engine=${1%%:*} sources started=$SECONDS
  sources=$(cat "scripts/images/$engine.Dockerfile" "scripts/images/$engine-entrypoint.sh" | sha256sum | cut -c1-16)
  if [ -z "${FORCE:-}" ] && [ "$(docker image inspect -f '{{index .Config.Labels "dev.pier.sources"}}' "$image" 2>/dev/null)" = "$sources" ]; then
    log "$image is present (sources $sources)"
    return
  fi
  local out
  out=$(docker build -q --build-arg "BASE=$DB_PACKAGES_IMAGE" --label "dev.pier.sources=$sources" -t "$image" \
    -f "scripts/images/$engine.Dockerfile" scripts/images 2>&1) || {
    echo "$out" >&2
    exit 1
  }
  log "$image built from sources $sources ($((SECONDS - started)) s)"
}

build_databases() {
  build_database_packages
  local image pids=()
  for image in "${DB_IMAGES[@]}"; do
    build_database_image "$image" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
}

case "$what" in
  base) build_base ;;
  agent) build_base && build_agent ;;
  databases) build_base && build_databases ;;
  all) build_base && build_agent && build_databases ;;
  *)
    echo "usage: scripts/images.sh [all|base|agent|databases]" >&2
    exit 64
    ;;
esac
