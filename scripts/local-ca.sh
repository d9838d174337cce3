#!/bin/sh
# A local CA for development: makes DIR/ca.pem (once) and a certificate for the names given, signed by it.
#   sh scripts/local-ca.sh DIR NAME [NAME...]      e.g. sh scripts/local-ca.sh certs localhost 127.0.0.1 app.test
# Trust DIR/ca.pem in your browser or with `curl --cacert DIR/ca.pem`; never install its key anywhere else.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 DIR NAME [NAME...]" >&2; exit 2; }
dir=$1; shift
mkdir -p "$dir"
umask 077
if [ ! -f "$dir/ca.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" \
    -days 825 -subj "/CN=Fulcrum local development CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  chmod 644 "$dir/ca.pem"
fi
san=""
for name in "$@"; do
  case $name in
    *[!0-9.]*) entry="DNS:$name" ;;
    *) entry="IP:$name" ;;
  esac
  case $name in *:*) entry="IP:$name" ;; esac
  san="${san:+$san,}$entry"
done
leaf="$dir/$1"
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" > "$leaf.ext"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$leaf.key" -out "$leaf.csr" -subj "/CN=$1" 2>/dev/null
openssl x509 -req -in "$leaf.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 397 \
  -extfile "$leaf.ext" -out "$leaf.pem" 2>/dev/null
chmod 644 "$leaf.pem"
rm -f "$leaf.csr" "$leaf.ext"
echo "$leaf.pem and $leaf.key for $san, signed by $dir/ca.pem"
