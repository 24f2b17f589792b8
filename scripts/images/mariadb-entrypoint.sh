#!/bin/bash
# The entrypoint of Pier's MariaDB test image (Debian's mariadb-server; scripts/images.sh). It
# honours the official mariadb (and mysql) images' environment, so a Pier database service of
# either engine runs on it unchanged: MARIADB_ROOT_PASSWORD or MYSQL_ROOT_PASSWORD (or
# MARIADB_ALLOW_EMPTY_ROOT_PASSWORD), MARIADB_DATABASE / MYSQL_DATABASE, MARIADB_USER / MYSQL_USER
# with MARIADB_PASSWORD / MYSQL_PASSWORD (granted everything on that database), and *.sql / *.sh
# in /docker-entrypoint-initdb.d on first start. Any other command runs as given.
set -euo pipefail

if [ "${1:0:1}" = "-" ]; then set -- mariadbd "$@"; fi
if [ "$1" != "mariadbd" ] && [ "$1" != "mysqld" ]; then exec "$@"; fi
# `mariadbd --version` (or --help) answers without a data directory, as in the official image.
for arg in "$@"; do case "$arg" in -'?' | --help | --version | -V) exec "$@" ;; esac; done

datadir=/var/lib/mysql
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$datadir" /run/mysqld
  chown mysql:mysql "$datadir" /run/mysqld
  exec setpriv --reuid=mysql --regid=mysql --init-groups "$BASH_SOURCE" "$@"
fi

root_password="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}"
database="${MARIADB_DATABASE:-${MYSQL_DATABASE:-}}"
user="${MARIADB_USER:-${MYSQL_USER:-}}"
password="${MARIADB_PASSWORD:-${MYSQL_PASSWORD:-}}"
allow_empty="${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-${MYSQL_ALLOW_EMPTY_PASSWORD:-}}"

# Quotes a value as an SQL string literal.
sql_string() { printf "'%s'" "$(printf '%s' "$1" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/''/g")"; }
sql_name() { printf '`%s`' "$(printf '%s' "$1" | sed -e 's/`/``/g')"; }

if [ ! -d "$datadir/mysql" ]; then
  if [ -z "$root_password" ] && [ -z "$allow_empty" ]; then
    echo "error: the database is uninitialized and MARIADB_ROOT_PASSWORD (or MYSQL_ROOT_PASSWORD) is not set" >&2
    exit 1
  fi
  mariadb-install-db --datadir="$datadir" --skip-test-db \
    --auth-root-authentication-method=normal --skip-name-resolve >/dev/null
  socket=/run/mysqld/init.sock
  mariadbd --skip-networking --socket="$socket" --datadir="$datadir" &
  pid=$!
  for _ in $(seq 1 300); do
    mariadb-admin --socket="$socket" -uroot ping >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { echo "error: mariadbd exited during initialisation" >&2; exit 1; }
    sleep 0.1
  done
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    # Root only as the two accounts below, with the password (install-db adds password-less and anonymous ones).
    echo "DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1', 'root'@$(sql_string "$(hostname)"), ''@'localhost', ''@$(sql_string "$(hostname)");"
    echo "SET PASSWORD FOR 'root'@'localhost' = PASSWORD($(sql_string "$root_password"));"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY $(sql_string "$root_password");"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [ -n "$database" ]; then echo "CREATE DATABASE IF NOT EXISTS $(sql_name "$database");"; fi
    if [ -n "$user" ] && [ -n "$password" ]; then
      echo "CREATE USER $(sql_string "$user")@'%' IDENTIFIED BY $(sql_string "$password");"
      if [ -n "$database" ]; then echo "GRANT ALL ON $(sql_name "$database").* TO $(sql_string "$user")@'%';"; fi
    fi
    echo "FLUSH PRIVILEGES;"
  } | mariadb --socket="$socket" -uroot
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) . "$f" ;;
      *.sql) mariadb --socket="$socket" -uroot -p"$root_password" ${database:+"$database"} <"$f" ;;
    esac
  done
  kill "$pid"
  wait "$pid" || true
  echo "MariaDB init process done; ready for start up."
fi
exec "$@"
