#!/usr/bin/env bash
# A Docker engine on this kind of machine (Debian, root, no container registry), for the container path:
# `make images`, `make compose-up` and tests/containers.
#
#   scripts/docker-engine.sh install   # Debian's docker.io and debootstrap; the compose v2 plugin when missing
#   scripts/docker-engine.sh start     # dockerd in the background (log var/docker/dockerd.log), unless one answers
#   scripts/docker-engine.sh stop      # stops the dockerd that `start` started (its pid in var/docker/dockerd.pid)
#
# Debian bookworm has no compose v2 package (its `docker-compose` is the old Python v1, which does not read
# this project's compose files), so the plugin is built from the Go module proxy, as FerretDB is, and
# installed as /usr/local/lib/docker/cli-plugins/docker-compose (found by both the Debian and the upstream
# docker CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
COMPOSE_VERSION=${COMPOSE_VERSION:-v2.40.3}
plugins=/usr/local/lib/docker/cli-plugins
pid_file=$root/var/docker/dockerd.pid
log_file=$root/var/docker/dockerd.log

say() { echo "docker-engine: $*" >&2; }

install_engine() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  fi
  if docker compose version >/dev/null 2>&1; then return; fi
  say "building docker compose $COMPOSE_VERSION from the Go module proxy (first time only; a few minutes)"
  local module
  module=$(go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$plugins"
  # Built inside the module (its go.mod has exclude directives, which `go install pkg@version` refuses).
  (cd "$module" && go build -trimpath \
    -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
    -o "$plugins/docker-compose" ./cmd)
  docker compose version >&2
}

engine_answers() { docker info >/dev/null 2>&1; }

start_engine() {
  if engine_answers; then say "a Docker engine answers"; return; fi
  command -v dockerd >/dev/null || install_engine
  mkdir -p "$(dirname "$pid_file")"
  nohup dockerd >"$log_file" 2>&1 &
  echo $! >"$pid_file"
  for _ in $(seq 1 60); do
    if engine_answers; then say "dockerd started (pid $(cat "$pid_file"), log $log_file)"; return; fi
    if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then break; fi
    sleep 1
  done
  tail -n 20 "$log_file" >&2
  say "dockerd did not come up"
  return 1
}

stop_engine() {
  [ -f "$pid_file" ] || return 0
  local pid
  pid=$(cat "$pid_file")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    say "dockerd (pid $pid) stopped"
  fi
  rm -f "$pid_file"
}

case "${1:-}" in
  install) install_engine ;;
  start) start_engine ;;
  stop) stop_engine ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
