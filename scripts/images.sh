#!/usr/bin/env bash
# Builds every image Inovda needs to run in containers (`make images`), with or without a container registry:
#
#   - the base: `python:3.11-slim` (and `debian:bookworm-slim` for RabbitMQ) when a registry answers; else a
#     local Debian bookworm base made with debootstrap (minbase, Debian's python3), `inovda-base:bookworm`,
#     built once and reused;
#   - one image per service, one for every deploy/docker/<name>.Dockerfile (a new service is a new file:
#     nothing to add here), the CLI's among them;
#   - for a site without a registry (deploy/docker/local/): RabbitMQ from Debian's rabbitmq-server, FerretDB
#     from the binary the project builds (var/bin/ferretdb), and an SMTP sink (the project's own aiosmtpd
#     sink, on top of the CLI image).
#
# Python dependencies come from a wheelhouse built here on the host first (deploy/docker/wheelhouse, with
# the host's pip, index and CA bundle); the image builders install from it with no index, so no build needs
# the network for pip, and the service images share their first layers.
#
# Settings (environment): INOVDA_IMAGE_PREFIX (inovda), INOVDA_TAG (dev), INOVDA_BASE_IMAGE (a Python 3.11
# base to use as it is, e.g. a mirror's python:3.11-slim@sha256:...; skips the registry probe),
# INOVDA_DEBIAN_MIRROR (the mirror apt uses here), INOVDA_REBUILD_BASE=1 (make the local base again),
# INOVDA_RABBITMQ_VERSION (Debian's rabbitmq-server version to install; default: the Dockerfile's pin).
# Timing of each step goes to stderr; the log of each build to var/images/<image>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
prefix=${INOVDA_IMAGE_PREFIX:-inovda}
tag=${INOVDA_TAG:-dev}
local_base=inovda-base:bookworm
logs=$root/var/images
mkdir -p "$logs"

step_started=$(date +%s)
say() { echo "images: $*" >&2; }
took() { local now; now=$(date +%s); say "$1 ($((now - step_started)) s)"; step_started=$now; }

if ! docker info >/dev/null 2>&1; then
  say "no Docker engine answers (scripts/docker-engine.sh start, as root)"
  exit 1
fi

build() { # image, log name, docker build arguments...
  local image=$1 name=$2
  shift 2
  if ! docker build --network host --tag "$image" "$@" >"$logs/$name.log" 2>&1; then
    tail -n 40 "$logs/$name.log" >&2
    say "building $image failed; the whole log: $logs/$name.log"
    return 1
  fi
  took "built $image"
}

debian_mirror() {
  if [ -n "${INOVDA_DEBIAN_MIRROR:-}" ]; then echo "$INOVDA_DEBIAN_MIRROR"; return; fi
  local found
  found=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
    | grep -m1 -E '/debian/?$|/debian ' | awk '{print $2}')
  echo "${found:-http://deb.debian.org/debian}"
}

make_local_base() {
  # Debian bookworm, minbase, with Debian's Python 3.11 (python3-venv for the builders' virtualenvs).
  if [ "${INOVDA_REBUILD_BASE:-}" != 1 ] && docker image inspect "$local_base" >/dev/null 2>&1; then
    took "$local_base exists (INOVDA_REBUILD_BASE=1 makes it again)"
    return
  fi
  if ! command -v debootstrap >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
  fi
  local mirror rootfs security
  mirror=$(debian_mirror)
  security=${mirror%/debian}/debian-security
  rootfs=$(mktemp -d "$logs/rootfs.XXXXXX")
  # shellcheck disable=SC2064 # the folder is known now
  trap "rm -rf '$rootfs'" EXIT
  say "making $local_base with debootstrap from $mirror (about a minute)"
  debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,debian-archive-keyring \
    bookworm "$rootfs" "$mirror" >"$logs/debootstrap.log" 2>&1 \
    || { tail -n 20 "$logs/debootstrap.log" >&2; exit 1; }
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
  tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    - "$local_base" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
  took "made $local_base"
}

# The base images: the registry's, or the local one.
if [ -n "${INOVDA_BASE_IMAGE:-}" ]; then
  python_base=$INOVDA_BASE_IMAGE
  debian_base=$INOVDA_BASE_IMAGE
elif timeout 60 docker pull -q python:3.11-slim >/dev/null 2>&1 \
  && timeout 60 docker pull -q debian:bookworm-slim >/dev/null 2>&1; then
  python_base=python:3.11-slim
  debian_base=debian:bookworm-slim
  took "a registry answers: python:3.11-slim and debian:bookworm-slim"
else
  took "no registry answers: using $local_base"
  make_local_base
  python_base=$local_base
  debian_base=$local_base
fi

# The wheelhouse: every pinned runtime dependency and the build backend, as wheels, built with the host's pip.
python=${PYTHON:-.venv/bin/python}
[ -x "$python" ] || python=python3
wheelhouse=deploy/docker/wheelhouse
requirements=$(mktemp)
# Only the pins: the Inovda packages themselves are built inside the images from their source.
grep -E '^[A-Za-z0-9]' deploy/docker/constraints.txt >"$requirements"
echo hatchling >>"$requirements"
if ! "$python" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$wheelhouse" \
  --constraint deploy/docker/constraints.txt --requirement "$requirements" >"$logs/wheelhouse.log" 2>&1; then
  tail -n 20 "$logs/wheelhouse.log" >&2
  say "pip wheel failed; see $logs/wheelhouse.log"
  exit 1
fi
rm -f "$requirements"
took "wheelhouse: $(find "$wheelhouse" -name '*.whl' | wc -l) wheels in $wheelhouse"

# The service images and the CLI's: every deploy/docker/<name>.Dockerfile, built from the repository root.
for dockerfile in deploy/docker/*.Dockerfile; do
  name=$(basename "$dockerfile" .Dockerfile)
  build "$prefix-$name:$tag" "$name" --build-arg "PYTHON_IMAGE=$python_base" --file "$dockerfile" .
done

# A site without a registry: RabbitMQ, the SMTP sink and FerretDB (whose context is its binary and health
# check, staged under var/images/).
rabbitmq_version=()
if [ -n "${INOVDA_RABBITMQ_VERSION:-}" ]; then rabbitmq_version=(--build-arg "RABBITMQ_VERSION=$INOVDA_RABBITMQ_VERSION"); fi
build "$prefix-rabbitmq:$tag" rabbitmq --build-arg "BASE_IMAGE=$debian_base" "${rabbitmq_version[@]}" \
  --file deploy/docker/local/rabbitmq.Dockerfile deploy/docker/local
build "$prefix-mailsink:$tag" mailsink --build-arg "CLI_IMAGE=$prefix-cli:$tag" \
  --file deploy/docker/local/mailsink.Dockerfile deploy/docker/local
[ -x var/bin/ferretdb ] || scripts/build-ferretdb.sh
context=$logs/ferretdb-context
rm -rf "$context"
mkdir -p "$context"
cp deploy/docker/local/ferretdb_ping.py "$context/"
cp var/bin/ferretdb "$context/ferretdb"
build "$prefix-ferretdb:$tag" ferretdb --build-arg "BASE_IMAGE=$python_base" \
  --file deploy/docker/local/ferretdb.Dockerfile "$context"
rm -rf "$context"
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "^($prefix-[a-z]+:$tag|$local_base) " >&2 || true
