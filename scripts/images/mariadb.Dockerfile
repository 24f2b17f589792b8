# MariaDB 10.11 for tests, on the database packages layer scripts/images.sh installs from Debian
# bookworm (no registry pull); the entrypoint follows the official mariadb/mysql images' conventions.
ARG BASE=pier-test/databases-base:bookworm
FROM ${BASE}
COPY mariadb-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
# Debian's server listens on loopback only and keeps an initialised data directory; a container
# listens on its network, and its data directory starts empty (a new volume copies it).
RUN printf '[mysqld]\nbind-address = 0.0.0.0\nskip-name-resolve\n' >/etc/mysql/mariadb.conf.d/99-pier.cnf \
 && rm -rf /var/lib/mysql && mkdir -p /var/lib/mysql /run/mysqld /docker-entrypoint-initdb.d && chown mysql:mysql /var/lib/mysql /run/mysqld
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
EXPOSE 3306
CMD ["mariadbd"]
