#!/usr/bin/env bash
# Makes a Docker engine and the test base image available on a Debian machine with no registry
# access: installs docker.io, busybox-static and Compose when missing, starts dockerd in the
# background, and builds pier-test/busybox:latest from busybox with `docker import` (nothing is
# pulled). Compose v2 (the plugin) is not in Debian; its `docker-compose` (v1) is, and the
# agent's compose operations use whichever the host has.
# Idempotent; safe to run on every CI run.
set -euo pipefail

log() { echo "[docker-setup] $*"; }

if ! command -v dockerd >/dev/null 2>&1 || [ ! -x /bin/busybox ]; then
  log "installing docker.io and busybox-static"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io busybox-static >/dev/null
fi

if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
  log "installing docker-compose"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker-compose >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  # A dockerd that ended without cleaning up leaves its networks' bridges (br-<id>) on the host,
  # addresses and routes included, and a new dockerd treats every such subnet as taken: after a few
  # restarts its default pools (~31 networks) are gone and `docker network create` fails with "could
  # not find an available, non-overlapping IPv4 address pool". No engine runs now, so every br-*
  # bridge is such a leftover.
  for bridge in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | grep '^br-[0-9a-f]\{12\}$' || true); do
    ip link delete "$bridge" 2>/dev/null && log "removed leftover bridge $bridge" || true
  done
  log "starting dockerd"
  mkdir -p /var/log
  # A /24 per network from 10.240.0.0/12 (4 096 networks) instead of the default pools, so test
  # files running side by side, each with its projects' networks, cannot run the engine out of
  # subnets. The tests' own fixed ranges (10.213–10.219) lie outside it.
  nohup dockerd --default-address-pool base=10.240.0.0/12,size=24 >/var/log/pier-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not start; see /var/log/pier-dockerd.log"; tail -20 /var/log/pier-dockerd.log; exit 1; }
fi

if ! docker image inspect pier-test/busybox:latest >/dev/null 2>&1; then
  log "building pier-test/busybox:latest from /bin/busybox"
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/www" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
  echo 'root:x:0:' > "$root/etc/group"
  echo 'pier test image' > "$root/www/index.html"
  tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - pier-test/busybox:latest >/dev/null
  rm -rf "$root"
fi
log "docker $(docker version --format '{{.Server.Version}}') ready; pier-test/busybox:latest present"
