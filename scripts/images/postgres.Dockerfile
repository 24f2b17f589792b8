# PostgreSQL 15 for tests, on the database packages layer scripts/images.sh installs from Debian
# bookworm (no registry pull); the entrypoint follows the official postgres image's conventions.
ARG BASE=pier-test/databases-base:bookworm
FROM ${BASE}
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PGDATA=/var/lib/postgresql/data
RUN mkdir -p /var/lib/postgresql/data /docker-entrypoint-initdb.d && chown postgres:postgres /var/lib/postgresql/data && chmod 700 /var/lib/postgresql/data
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
