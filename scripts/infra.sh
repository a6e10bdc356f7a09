#!/usr/bin/env bash
# Starts (or stops) what Inovda needs on this machine: RabbitMQ on 127.0.0.1:5672 and FerretDB on
# 127.0.0.1:27017 (and installs Debian's Chromium for the browser tests). A part whose URL is given in the
# environment (AMQP_URL, MONGODB_URL) is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mkdir -p var/log var/run

wait_for() { # name, seconds, command...
  local name=$1 seconds=$2; shift 2
  for _ in $(seq 1 "$seconds"); do
    if "$@" >/dev/null 2>&1; then echo "$name is up"; return 0; fi
    sleep 1
  done
  echo "$name did not come up within ${seconds}s" >&2
  return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_rabbitmq() {
  if [ -n "${AMQP_URL:-}" ]; then echo "AMQP_URL is set: not starting RabbitMQ"; return; fi
  if ! command -v rabbitmq-server >/dev/null; then
    echo "installing rabbitmq-server"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q rabbitmq-server >/dev/null
  fi
  local config
  config=$(broker_config)
  if port_open 5672; then
    # A node started before this configuration existed: the same bound for every channel opened from now on
    # (no restart: others may be using it); its next start reads the file.
    rabbitmqctl -q eval "application:set_env(rabbit, max_message_size, $(config_value max_message_size))." >/dev/null
    echo "RabbitMQ is up"
    return
  fi
  RABBITMQ_CONFIG_FILE=$config RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server -detached
  wait_for RabbitMQ 90 rabbitmq-diagnostics -q check_port_connectivity
}

config_value() { sed -n "s/^$1 *= *//p" deploy/rabbitmq/limits.conf; }

broker_config() {
  # Inovda's bounds (deploy/rabbitmq/limits.conf), in a copy under var/ for the node to read at start. The node
  # runs as the broker's own user: where it may not read the checkout (a home folder), a copy in its own home.
  local config=$root/var/rabbitmq/rabbitmq.conf
  mkdir -p "$root/var/rabbitmq"
  install -m 644 deploy/rabbitmq/limits.conf "$config"
  if [ "$(id -u)" = 0 ] && id rabbitmq >/dev/null 2>&1 && ! su rabbitmq -s /bin/sh -c "test -r '$config'"; then
    config=/var/lib/rabbitmq/inovda-rabbitmq.conf
    install -m 644 -o rabbitmq deploy/rabbitmq/limits.conf "$config"
  fi
  echo "$config"
}

load_definitions() {
  # Topology and one least-privilege user per service and outside system (passwords under var/secrets/).
  if [ -n "${AMQP_URL:-}" ]; then return; fi
  .venv/bin/inovda broker-definitions --out "$root/var/rabbitmq/definitions.json" >/dev/null
  # rabbitmqctl runs as the broker's own user, who may not read this folder: hand it a readable copy
  # (password hashes, not passwords) and remove it again.
  local copy
  copy=$(mktemp --suffix=.json)
  cp "$root/var/rabbitmq/definitions.json" "$copy"
  chmod 644 "$copy"
  rabbitmqctl -q import_definitions "$copy"
  rm -f "$copy"
  echo "RabbitMQ definitions loaded (deploy/rabbitmq/access.json)"
}

start_ferretdb() {
  if [ -n "${MONGODB_URL:-}" ]; then echo "MONGODB_URL is set: not starting FerretDB"; return; fi
  if port_open 27017; then echo "FerretDB (or MongoDB) is up"; return; fi
  [ -x var/bin/ferretdb ] || "$root/scripts/build-ferretdb.sh"
  nohup var/bin/ferretdb -listen 127.0.0.1:27017 -data "$root/var/ferretdb" >var/log/ferretdb.log 2>&1 &
  echo $! >var/run/ferretdb.pid
  wait_for FerretDB 30 port_open 27017
}

install_chromium() {
  # The browser tests drive Debian's Chromium (Playwright without its own browser download).
  if command -v chromium >/dev/null; then return; fi
  echo "installing chromium"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
}

stop_all() {
  if [ -z "${AMQP_URL:-}" ] && command -v rabbitmqctl >/dev/null && rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
    rabbitmqctl -q stop && echo "RabbitMQ stopped"
  fi
  if [ -f var/run/ferretdb.pid ]; then
    kill "$(cat var/run/ferretdb.pid)" 2>/dev/null && echo "FerretDB stopped" || true
    rm -f var/run/ferretdb.pid
  fi
}

case "${1:-start}" in
  start) start_rabbitmq; load_definitions; start_ferretdb; install_chromium ;;
  stop) stop_all ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
