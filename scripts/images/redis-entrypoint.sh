#!/bin/sh
# The entrypoint of Pier's Redis test image (Debian's redis-server; scripts/images.sh), as the
# official image's: `redis-server …` runs as the redis user in /data (where dump.rdb and the
# append-only files go) with protected mode off (a container is reached over its network; the
# official image builds it off); any other command — Pier's `sh -c 'exec redis-server
# --requirepass … --appendonly yes'` — runs as given, in /data too.
set -eu
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi
# `redis-server --version` (or --help) as it is.
for arg in "$@"; do case "$arg" in -v | --version | -h | --help) exec "$@" ;; esac; done
if [ "$1" = redis-server ]; then
  if [ "$(id -u)" = 0 ]; then
    chown -R redis:redis /data
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
  fi
  shift
  # After the config file, if any, and before the caller's options, which win.
  if [ $# -gt 0 ] && [ "${1%.conf}" != "$1" ]; then
    conf=$1
    shift
    set -- redis-server "$conf" --protected-mode no "$@"
  else
    set -- redis-server --protected-mode no "$@"
  fi
fi
exec "$@"
