#!/usr/bin/env bash
# The whole system in containers on this Docker host, from the images `make images` built
# (docker-compose.yml with the override docker-compose.local.yml): `make compose-up` / `make compose-down`.
#
#   scripts/compose.sh up      # writes .env with generated passwords when there is none, and the broker's
#                              # development TLS certificate when there is none (RABBITMQ_TLS_DIR), starts
#                              # everything, and waits until every container is healthy
#   scripts/compose.sh down    # stops and removes the containers; the data volumes stay (`down -v`: gone too)
#   scripts/compose.sh ARGS    # any other docker compose command on the same files, e.g. `ps`, `logs -f scoring`,
#                              # `up -d --scale scoring=3`, `run --rm cli inovda status`
set -euo pipefail
cd "$(dirname "$0")/.."
compose=(docker compose -f docker-compose.yml -f docker-compose.local.yml)

case "${1:-}" in
  up)
    shift
    [ -e .env ] || sh deploy/compose/make-env.sh
    tls_dir=$(sed -n 's/^RABBITMQ_TLS_DIR=//p' .env | tail -n 1)
    sh deploy/compose/make-tls.sh "${RABBITMQ_TLS_DIR:-${tls_dir:-./var/compose/tls}}"  # keeps an existing one
    # The SMTP sink writes every email here, as the unprivileged user of the images (uid 10001).
    mail_dir=$(sed -n 's/^LOCAL_MAIL_DIR=//p' .env | tail -n 1)
    mail_dir=${LOCAL_MAIL_DIR:-${mail_dir:-./var/compose/mail}}
    mkdir -p "$mail_dir"
    chown 10001:10001 "$mail_dir" 2>/dev/null || chmod a+rwx "$mail_dir"
    "${compose[@]}" up -d --wait --wait-timeout 300 "$@"
    "${compose[@]}" ps --format 'table {{.Name}}\t{{.Status}}\t{{.Ports}}'
    ;;
  down)
    shift
    "${compose[@]}" down "$@"
    ;;
  "")
    echo "usage: $0 up|down|COMPOSE-ARGS..." >&2
    exit 2
    ;;
  *) "${compose[@]}" "$@" ;;
esac
