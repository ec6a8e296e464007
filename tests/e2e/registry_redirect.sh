#!/usr/bin/env bash
# A blob GET redirected to another host (object storage) is followed, and
# never carries the registry's Authorization header there.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"
if m=$(registry_missing); then skip "redirects" "missing: $m"; echo "1..$_n"; exit 0; fi

registry_start reg basic-http || exit 1
cp -a "$TOP_SRCDIR/testdata/golden" "$T/g"
(cd "$T/g" && "$DERRICK" build -q -o oci:"$T/img":v1)
"$DERRICK" push -q --tls-verify=false --creds "$REG_USER:$REG_PASS" oci:"$T/img":v1 "docker://$REG_ADDR/app:v1"

ports=$(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
read -r front storage <<<"$ports"
python3 "$TOP_SRCDIR/tests/lib/redirect_front.py" "$front" "$storage" "$REG_URL" "$T/storage.log" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do grep -q ready "$T/storage.log" 2>/dev/null && break; sleep 0.1; done

"$DERRICK" pull -q --tls-verify=false --creds "$REG_USER:$REG_PASS" --cache-dir "$T/cache" \
	"127.0.0.1:$front/app:v1" -o oci:"$T/pulled" 2>"$T/pull.err"
check "a pull whose blob GETs are redirected to another host succeeds" oci-image-tool validate --type image "$T/pulled"
same "  ... the blobs came from the storage host" "$(grep -c '^GET sha256:' "$T/storage.log")" "2"
same "  ... and no Authorization header went there" "$(grep -c 'authorization=yes' "$T/storage.log")" "0"
echo "1..$_n"
