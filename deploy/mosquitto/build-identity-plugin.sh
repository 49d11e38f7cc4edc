#!/bin/sh
# Build the edge_identity Mosquitto plugin: build-identity-plugin.sh [OUTPUT.so]
# Needs: cc, libssl-dev, mosquitto-dev, libmosquitto-dev (Debian/Ubuntu package names).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/edge_identity.so"}
for header in openssl/x509.h mosquitto.h mosquitto_broker.h mosquitto_plugin.h; do
    if ! printf '#include <%s>\n' "$header" | ${CC:-cc} -E -x c - >/dev/null 2>&1; then
        echo "error: <$header> not found" >&2
        echo "  fix: apt-get install gcc libssl-dev mosquitto-dev libmosquitto-dev" >&2
        exit 69
    fi
done
${CC:-cc} -O2 -Wall -Wextra -Werror -fPIC -shared -o "$out" "$here/edge_identity.c" -lcrypto
echo "built $out"
