#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Certificates for forwarding bridle's journal records across a fleet (docs/fleet.md).
# Usage: make-certs.sh OUTDIR CENTRAL_NAME HOST_NAME...
# Writes into OUTDIR (created, mode 0700):
#   ca.key ca.crt                      the fleet's own CA (keep ca.key offline)
#   central.key central.crt            for the central host (CN and DNS name CENTRAL_NAME;
#                                      also 127.0.0.1 when CENTRAL_NAME is localhost)
#   HOST_NAME.key HOST_NAME.crt        one per uploading host (CN HOST_NAME: journal-remote
#                                      names that host's journal file after it)
# Copy ca.crt to every machine, central.* to the central host and HOST.* to each host as
# /etc/bridle/fleet/host.key and host.crt (see install/fleet/*.conf). Needs openssl.
set -euo pipefail
if (($# < 3)); then
    echo "usage: $0 OUTDIR CENTRAL_NAME HOST_NAME..." >&2
    exit 64
fi
out=$1 central=$2
shift 2
valid_name='^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$'
for name in "$central" "$@"; do
    [[ $name =~ $valid_name ]] || { echo "make-certs.sh: not a host name: $name" >&2; exit 64; }
done
mkdir -p -m 0700 "$out"
days=825
if [[ ! -f $out/ca.key ]]; then
    openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj "/CN=bridle fleet CA" \
        -keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
fi
# sign NAME USAGE: NAME.key and NAME.crt, signed by the CA.
sign() {
    local name=$1 file=$2 usage=$3 san="DNS:$1"
    [[ $name == localhost ]] && san="$san,IP:127.0.0.1"
    openssl req -new -newkey rsa:3072 -nodes -subj "/CN=$name" \
        -keyout "$out/$file.key" -out "$out/$file.csr" 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' "$san" "$usage" >"$out/$file.ext"
    openssl x509 -req -in "$out/$file.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
        -days "$days" -extfile "$out/$file.ext" -out "$out/$file.crt" 2>/dev/null
    rm -f "$out/$file.csr" "$out/$file.ext"
    chmod 0600 "$out/$file.key"
}
sign "$central" central serverAuth
for host in "$@"; do sign "$host" "$host" clientAuth; done
echo "make-certs.sh: CA, central ($central) and $# host certificate(s) in $out"
