#!/usr/bin/env bash
# Builds FerretDB 1.24 embedded in deploy/ferretdb (Go module proxy) into var/bin/ferretdb, with the
# patches in deploy/ferretdb/patches applied to a copy of the module (a temporary `replace`; the committed
# go.mod and the module cache stay as they are).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mkdir -p var/bin
echo "building FerretDB (first time only; a few minutes)"
cd deploy/ferretdb
go mod download github.com/FerretDB/FerretDB
module_dir=$(go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
cp -R "$module_dir" "$work/FerretDB"
chmod -R u+w "$work/FerretDB"
for patch_file in patches/*.patch; do
  patch --quiet --forward -p1 -d "$work/FerretDB" <"$patch_file"
done
cp go.mod "$work/go.mod"
cp go.sum "$work/go.sum"
go mod edit -modfile="$work/go.mod" -replace "github.com/FerretDB/FerretDB=$work/FerretDB"
go build -modfile="$work/go.mod" -o "$root/var/bin/ferretdb" .
