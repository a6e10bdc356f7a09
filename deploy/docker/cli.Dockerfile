# syntax=docker/dockerfile:1
# The operator command `inovda` (status, dlq, publish, report, broker-definitions). Not a service: it runs
# once and exits. docker-compose.yml uses it to render RabbitMQ's definitions (topology and least-privilege
# users from deploy/rabbitmq/access.json) and as `docker compose run --rm cli inovda status`.
# Build from the repository root:
#   docker build -f deploy/docker/cli.Dockerfile -t inovda-cli:dev .

ARG PYTHON_IMAGE=python:3.11-slim

# Builder: a virtualenv with shared, scoring (the CLI reads the scoring library) and the CLI.
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY deploy/docker/constraints.txt deploy/docker/constraints.txt
# Wheels that scripts/images.sh (`make images`) builds on the host: when there are any, pip installs from
# them alone, with no index (a site without a registry or network; and no CA bundle needed in the build).
COPY deploy/docker/wheelhouse /wheelhouse
COPY shared shared
COPY services/scoring services/scoring
COPY services/notification services/notification
COPY services/portal services/portal
COPY cli cli
RUN if ls /wheelhouse/*.whl >/dev/null 2>&1; then set -- --no-index --find-links=/wheelhouse; fi \
    && /opt/venv/bin/pip install --no-cache-dir "$@" --constraint deploy/docker/constraints.txt \
        ./shared ./services/scoring ./services/notification ./services/portal ./cli \
    && /opt/venv/bin/pip uninstall --yes pip setuptools \
    && /opt/venv/bin/python -c "import inovda_cli.main"

# Runtime: the slim interpreter and the virtualenv; state (relative paths such as var/secrets) under
# /var/lib/inovda, owned by the unprivileged user, so a volume mounted there is writable.
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 inovda \
    && useradd --system --no-log-init --uid 10001 --gid inovda --home-dir /var/lib/inovda --no-create-home \
        --shell /usr/sbin/nologin inovda \
    && install --directory --owner=10001 --group=10001 --mode=0755 /var/lib/inovda
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib
LABEL org.opencontainers.image.title="inovda-cli" \
      org.opencontainers.image.description="Inovda operator command"
USER 10001:10001
WORKDIR /var/lib/inovda
HEALTHCHECK NONE
CMD ["inovda", "--help"]
