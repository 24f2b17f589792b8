# Redis 7 for tests, on the database packages layer scripts/images.sh installs from Debian bookworm
# (no registry pull); the entrypoint follows the official redis image's conventions.
ARG BASE=pier-test/databases-base:bookworm
FROM ${BASE}
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN mkdir -p /data && chown redis:redis /data
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
EXPOSE 6379
CMD ["redis-server"]
