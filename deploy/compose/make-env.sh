#!/bin/sh
# Writes .env at the repository root from deploy/compose/example.env, with a random URL-safe value for every
# empty password or secret (a line `..._PASSWORD=`, `..._PASSWORD_<USER>=` or `..._SECRET=`). Leaves an existing
# .env alone.
# Usage: sh deploy/compose/make-env.sh [path]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${1:-$root/.env}
if [ -e "$target" ]; then
  echo "$target exists; not overwriting it" >&2
  exit 1
fi
umask 077
while IFS= read -r line || [ -n "$line" ]; do
  case $line in
    \#*) printf '%s\n' "$line" ;;
    *_PASSWORD=|*_PASSWORD_*=|*_SECRET=)
      secret=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
      printf '%s%s\n' "$line" "$secret"
      ;;
    *) printf '%s\n' "$line" ;;
  esac
done <"$root/deploy/compose/example.env" >"$target"
echo "wrote $target (mode 600); it holds secrets: keep it out of git" >&2
