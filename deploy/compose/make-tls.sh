#!/bin/sh
# Writes a development CA and a server certificate for the broker's AMQPS listener (5671), valid for the names
# outside systems and the compose network use (`rabbitmq`, `localhost`, 127.0.0.1, and any names given), into a
# folder outside the repository (default var/compose/tls; RABBITMQ_TLS_DIR in .env). Leaves existing files alone.
# For anything but development, put your own CA's files there instead: ca.crt, server.crt, server.key.
# Usage: sh deploy/compose/make-tls.sh [folder [extra DNS name...]]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
folder=${1:-$root/var/compose/tls}
if [ $# -gt 0 ]; then shift; fi
if [ -e "$folder/server.crt" ]; then
  echo "$folder/server.crt exists; not overwriting it" >&2
  exit 0
fi
umask 077
mkdir -p "$folder"
names="DNS:rabbitmq,DNS:localhost,IP:127.0.0.1"
for name in "$@"; do names="$names,DNS:$name"; done
extensions="$folder/server.ext"
printf 'basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\nsubjectAltName = %s\n' \
  "$names" >"$extensions"
openssl req -x509 -newkey rsa:3072 -nodes -days 825 -subj "/CN=Inovda development CA" \
  -addext "basicConstraints = critical, CA:TRUE" -addext "keyUsage = critical, keyCertSign, cRLSign" \
  -keyout "$folder/ca.key" -out "$folder/ca.crt" 2>/dev/null
openssl req -newkey rsa:3072 -nodes -subj "/CN=rabbitmq" -keyout "$folder/server.key" -out "$folder/server.csr" 2>/dev/null
openssl x509 -req -in "$folder/server.csr" -CA "$folder/ca.crt" -CAkey "$folder/ca.key" -CAcreateserial -days 825 \
  -extfile "$extensions" -out "$folder/server.crt" 2>/dev/null
rm -f "$folder/server.csr" "$extensions" "$folder/ca.srl"
# The folder stays private (0700); the three files the broker reads are bind-mounted into its container, where its
# own user (not this host's owner) must read them. The CA's key is never mounted: keep it, or delete it.
chmod 0644 "$folder/ca.crt" "$folder/server.crt" "$folder/server.key"
echo "wrote $folder (ca.crt for the outside systems; server.crt and server.key for the broker)" >&2
