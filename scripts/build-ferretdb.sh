#!/usr/bin/env bash
# Builds FerretDB 1.24 embedded in deploy/ferretdb (Go module proxy) into var/bin/ferretdb.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/bin
echo "building FerretDB (first time only; a few minutes)"
(cd deploy/ferretdb && go build -o ../../var/bin/ferretdb .)
