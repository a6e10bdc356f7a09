# RabbitMQ from Debian's own package, for a site whose Docker host cannot pull `rabbitmq:3.13-management`
# (no registry). docker-compose.local.yml runs it in place of that image, with the same configuration
# (deploy/rabbitmq/limits.conf, deploy/compose/rabbitmq.conf and enabled_plugins mounted into /etc/rabbitmq, the
# definitions rendered by `inovda broker-definitions` imported at boot, the AMQPS listener's certificate and
# key mounted as compose secrets: none of them is in the image). scripts/images.sh builds it (`make images`):
#   docker build --network host --build-arg BASE_IMAGE=inovda-base:bookworm \
#     -f deploy/docker/local/rabbitmq.Dockerfile -t inovda-rabbitmq:dev deploy/docker/local
# Debian bookworm's rabbitmq-server is 3.10 (quorum queues, definitions import, Prometheus plugin).

ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
ARG RABBITMQ_VERSION=3.10.8-1.1+deb12u1
# The package's user, made first with a fixed uid (the package keeps an existing one); policy-rc.d: its
# postinst must not try to start the broker inside the build.
RUN groupadd --system --gid 10003 rabbitmq \
    && useradd --system --no-log-init --uid 10003 --gid rabbitmq --home-dir /var/lib/rabbitmq --no-create-home \
        --shell /usr/sbin/nologin rabbitmq \
    && printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d \
    && chmod 0755 /usr/sbin/policy-rc.d \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "rabbitmq-server=${RABBITMQ_VERSION}" \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /usr/sbin/policy-rc.d \
    && install --directory --owner=rabbitmq --group=rabbitmq --mode=0750 /var/lib/rabbitmq
# Logs to the console (docker logs); what the node still writes as files (the upgrade log, a crash dump) goes
# to /tmp, and its state to /var/lib/rabbitmq (a volume), so the root file system can be read-only. HOME
# holds the Erlang cookie the CLI tools (the health check) share with the node.
ENV HOME=/var/lib/rabbitmq \
    RABBITMQ_LOGS=- \
    RABBITMQ_LOG_BASE=/tmp/rabbitmq \
    ERL_CRASH_DUMP=/tmp/erl_crash.dump \
    LANG=C.UTF-8
LABEL org.opencontainers.image.title="inovda-rabbitmq" \
      org.opencontainers.image.description="RabbitMQ (Debian's rabbitmq-server) for Inovda"
USER 10003:10003
WORKDIR /var/lib/rabbitmq
EXPOSE 5671 5672 15672 15692
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=15s --start-period=60s --retries=6 \
    CMD ["rabbitmq-diagnostics", "-q", "check_port_connectivity"]
# Not /usr/sbin/rabbitmq-server: Debian's wrapper sends the output to /var/log/rabbitmq. This script runs the
# node in the foreground, logs to the console and stops it cleanly on SIGTERM.
CMD ["/usr/lib/rabbitmq/bin/rabbitmq-server"]
