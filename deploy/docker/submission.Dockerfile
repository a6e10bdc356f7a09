# syntax=docker/dockerfile:1
# The submission service image (console script `inovda-submission`; health and metrics on port 8081).
# Build from the repository root:
#   docker build -f deploy/docker/submission.Dockerfile -t inovda-submission:dev .
# Configuration comes only from the environment at run time (see deploy/docker/README.md); secrets are never
# part of the image: pass AMQP_URL / MONGODB_URL or their `*_FILE` variants.

ARG PYTHON_IMAGE=python:3.11-slim

# Builder: a virtualenv with shared and the service, dependencies pinned by constraints.txt.
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
COPY services/submission services/submission
RUN if ls /wheelhouse/*.whl >/dev/null 2>&1; then set -- --no-index --find-links=/wheelhouse; fi \
    && /opt/venv/bin/pip install --no-cache-dir "$@" --constraint deploy/docker/constraints.txt \
        ./shared ./services/scoring ./services/submission \
    && /opt/venv/bin/pip uninstall --yes pip setuptools \
    && /opt/venv/bin/python -c "import inovda_submission.app"

# Runtime: the slim interpreter and the virtualenv, nothing else; runs as an unprivileged user.
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 inovda \
    && useradd --system --no-log-init --uid 10001 --gid inovda --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin inovda
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HTTP_PORT=8081
LABEL org.opencontainers.image.title="inovda-submission" \
      org.opencontainers.image.description="Inovda submission service"
USER 10001:10001
EXPOSE 8081
# SIGTERM stops consuming and drains in-flight messages for up to 30 s: give the container more than that
# (docker stop -t 45, compose stop_grace_period, Kubernetes terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HTTP_PORT', '8081') + '/health/live', timeout=3)"]
CMD ["inovda-submission"]
