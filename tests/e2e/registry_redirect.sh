#!/usr/bin/env bash
# A blob GET redirected to another host (object storage) is followed, and
# never carries the registry's Authorization header there: the redirect-blobs
# quirk of tests/lib/faulty_proxy.py answers blob GETs with a 307 to its own
# "storage host" (localhost, another port), which refuses such a header as S3
# does for a pre-signed URL and logs whether one came.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"
if m=$(registry_missing); then skip "redirects" "missing: $m"; echo "1..$_n"; exit 0; fi

registry_start reg basic-http || exit 1
cp -a "$TOP_SRCDIR/testdata/golden" "$T/g"
(cd "$T/g" && "$DERRICK" build -q -o oci:"$T/img":v1)
"$DERRICK" push -q --tls-verify=false --creds "$REG_USER:$REG_PASS" oci:"$T/img":v1 "docker://$REG_ADDR/app:v1"
proxy_start front reg redirect-blobs || exit 1

"$DERRICK" pull -q --tls-verify=false --creds "$REG_USER:$REG_PASS" --cache-dir "$T/cache" \
	"$FRONT_ADDR/app:v1" -o oci:"$T/pulled" 2>"$T/pull.err"
check "a pull whose blob GETs are redirected to another host succeeds" oci-image-tool validate --type image "$T/pulled"
same "  ... the blobs came from the storage host" "$(registry_count front GET '^/storage/sha256:' 200)" "2"
same "  ... and no Authorization header went there" "$(grep -c ' auth=yes' "$FRONT_LOG")" "0"
echo "1..$_n"
