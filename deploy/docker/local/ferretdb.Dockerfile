# FerretDB 1.24 on SQLite (the program in deploy/ferretdb, built by scripts/build-ferretdb.sh into
# var/bin/ferretdb): the MongoDB-protocol server for a site without a registry, in place of `mongo:7`.
# scripts/images.sh builds it (`make images`) from a context holding that binary and ferretdb_ping.py:
#   docker build --build-arg BASE_IMAGE=inovda-base:bookworm -f deploy/docker/local/ferretdb.Dockerfile \
#     -t inovda-ferretdb:dev CONTEXT
# The base needs python3 only for the health check (a MongoDB `ping` over the wire protocol).

ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
RUN groupadd --system --gid 10002 ferretdb \
    && useradd --system --no-log-init --uid 10002 --gid ferretdb --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin ferretdb \
    && install --directory --owner=10002 --group=10002 --mode=0750 /var/lib/ferretdb
COPY ferretdb /usr/local/bin/ferretdb
COPY ferretdb_ping.py /usr/local/bin/ferretdb-ping
LABEL org.opencontainers.image.title="inovda-ferretdb" \
      org.opencontainers.image.description="FerretDB 1.24 (SQLite) for Inovda"
USER 10002:10002
EXPOSE 27017
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=6 \
    CMD ["python3", "/usr/local/bin/ferretdb-ping", "127.0.0.1", "27017"]
CMD ["ferretdb", "-listen", "0.0.0.0:27017", "-data", "/var/lib/ferretdb"]
