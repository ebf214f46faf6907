#!/usr/bin/env bash
# Makes the test certificates of Sluice's TLS tests with openssl, into DIR (created):
#
#   ca.pem / ca.key                  a test CA (what clients and servers trust)
#   server.pem / server.key          localhost, 127.0.0.1 and ::1, signed by the CA
#   wronghost.pem / wronghost.key    wrong-host.invalid only, signed by the CA
#   expired.pem / expired.key        localhost, 127.0.0.1, valid 2020-01-01 to 2020-01-02, signed by the CA
#   client.pem / client.key          CN=sluice-client (client authentication), signed by the CA
#   other-ca.pem / other-ca.key      a CA nobody trusts
#   stranger.pem / stranger.key      a client certificate signed by other-ca (refused by mTLS servers)
#   *.p12                            server, wronghost and expired as PKCS#12 keystores
#                                    (password in keystore-password), for Java servers (Kafka)
#
# Does nothing when DIR/.complete exists (the set is made once; delete DIR to make it again).
# Keys are unencrypted RSA 2048: these are test certificates, never for production.
#   scripts/tls/make-certs.sh .sluice/tls
set -euo pipefail

DIR="${1:?usage: make-certs.sh DIR}"
[[ -f "$DIR/.complete" ]] && exit 0
command -v openssl >/dev/null || { echo "tls: openssl is needed to make the test certificates" >&2; exit 1; }
mkdir -p "$DIR"
# One maker at a time (parallel test files): the others wait, then find the set made.
exec 9>"$DIR/.lock"
flock 9
[[ -f "$DIR/.complete" ]] && exit 0
cd "$DIR"
PASS=sluice-test
echo -n "$PASS" >keystore-password

ca() { # name subject
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "$2" -keyout "$1.key" -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

# leaf name subject extensions issuer [startdate enddate]: a certificate signed by issuer's key.
leaf() {
  local name="$1" subject="$2" ext="$3" issuer="$4" start="${5:-}" end="${6:-}"
  openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "$subject" -keyout "$name.key" -out "$name.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$name.ext"
  if [[ -z "$start" ]]; then
    openssl x509 -req -sha256 -days 825 -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" -CAcreateserial -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  else
    # openssl x509 cannot back-date; `openssl ca` takes explicit start and end dates.
    mkdir -p "ca-$name"
    : >"ca-$name/index.txt"
    cat >"ca-$name/ca.cnf" <<EOF
[ca]
default_ca = test
[test]
database = ca-$name/index.txt
new_certs_dir = ca-$name
serial = ca-$name/serial
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
EOF
    openssl rand -hex 8 >"ca-$name/serial"
    openssl ca -batch -config "ca-$name/ca.cnf" -cert "$issuer.pem" -keyfile "$issuer.key" -in "$name.csr" -out "$name.pem" \
      -startdate "$start" -enddate "$end" -extfile "$name.ext" -notext 2>/dev/null
    rm -rf "ca-$name"
  fi
  rm -f "$name.csr" "$name.ext"
}

SERVER_EXT=$'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth'
ca ca "/CN=Sluice Test CA"
ca other-ca "/CN=Sluice Unknown CA"
leaf server "/CN=localhost" "$SERVER_EXT" ca
leaf wronghost "/CN=wrong-host.invalid" $'subjectAltName=DNS:wrong-host.invalid\nextendedKeyUsage=serverAuth' ca
leaf expired "/CN=localhost" "$SERVER_EXT" ca 20200101000000Z 20200102000000Z
leaf client "/CN=sluice-client" 'extendedKeyUsage=clientAuth' ca
leaf stranger "/CN=stranger" 'extendedKeyUsage=clientAuth' other-ca
for name in server wronghost expired; do
  openssl pkcs12 -export -in "$name.pem" -inkey "$name.key" -certfile ca.pem -name "$name" -passout "pass:$PASS" -out "$name.p12"
done
rm -f ./*.srl
touch .complete
echo "tls: test certificates made in $DIR"
