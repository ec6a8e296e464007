#!/usr/bin/env bash
# A faulty network: a proxy in front of the registry answers 500 and 429
# (with Retry-After) and drops connections in the middle of uploads.  The
# push still completes, and the registry's content verifies.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"
if m=$(registry_missing); then skip "registry fault tests" "missing: $m"; echo "1..$_n"; exit 0; fi

registry_start reg plain || exit 1
proxy_start px reg || exit 1
P=$PX_ADDR
# a layer of a few MB of incompressible data, so uploads take several chunks
mkdir -p "$T/p/data"
head -c 3000000 /dev/urandom >"$T/p/data/noise.bin"
printf '{"stages":[{"name":"a","layers":[{"source":"data","dest":"/data"}]}]}' >"$T/p/derrick.json"
(cd "$T/p" && "$DERRICK" build -q -o oci:"$T/img":v1)
D() { "$DERRICK" "$@" --tls-verify=false --chunk-size 512k; }

proxy_fault px POST next 429 retry-after=1
proxy_fault px PATCH 2 500
proxy_fault px PATCH 4 drop path=/blobs/uploads/
proxy_fault px PUT 1 500 path=/blobs/uploads/
start=$(date +%s)
D push -v --json oci:"$T/img":v1 "docker://$P/app:v1" >"$T/push.json" 2>"$T/push.err"
rc=$?
same "the push completes through 429, 500 and a dropped connection" "$rc" "0"
[[ $rc -eq 0 ]] || diag <"$T/push.err"
same "every programmed fault fired" "$(proxy_pending px)" "0"
check "  ... Retry-After was honoured (at least 1 s)" test $(($(date +%s) - start)) -ge 1
check "  ... a broken chunk was resumed from the registry's Range" grep -q "resuming at byte" "$T/push.err"
check "the registry's content verifies (skopeo pulls every blob back)" registry_verify reg app:v1
same "and the digest is the one built" \
	"$(skopeo inspect --tls-verify=false "docker://$REG_ADDR/app:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')" \
	"$("$DERRICK" inspect --json oci:"$T/img":v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest_digest"])')"

# progress: live lines on a terminal (script(1) gives the push one), plain lines in a log
if command -v script >/dev/null; then
	script -qec "$DERRICK push --tls-verify=false --chunk-size 512k oci:$T/img:v1 docker://$REG_ADDR/live:v1" \
		"$T/typescript" >/dev/null 2>&1
	check "on a terminal: a live line per blob, with bytes and rate, redrawn in place" \
		bash -c 'grep -q "MB/s" "$1" && grep -q $'"'"'\e\['"'"' "$1"' _ "$T/typescript"
else
	skip "live progress" "script(1) is missing"
fi
"$DERRICK" push --tls-verify=false oci:"$T/img":v1 "docker://$REG_ADDR/log:v1" 2>"$T/log.err" >/dev/null
check "in a log: one plain line per blob, no terminal codes" \
	bash -c 'test "$(grep -c "^uploaded " "$1")" = 2 && ! grep -q $'"'"'\e'"'"' "$1"' _ "$T/log.err"

# a download cut short is retried from the start, and only a whole blob is kept
proxy_fault px GET 1 truncate path=/blobs/sha256:
D pull -q --cache-dir "$T/cache" "$P/app:v1" -o oci:"$T/pulled" 2>"$T/pull.err"
check "a truncated blob download is retried and the pull completes" oci-image-tool validate --type image "$T/pulled"

# a 4xx is not retried: one line with the registry's code
proxy_fault px PUT 1 400 code=MANIFEST_INVALID path=/manifests/
expect_error "a 4xx stops at once with the registry's error code" "HTTP 400 MANIFEST_INVALID" \
	D push -q oci:"$T/img":v1 "docker://$P/app:v2"
# and retries give up after --retries
for i in 1 2 3; do proxy_fault px GET "$i" 503 path=/manifests/; done
expect_error "persistent 5xx: gives up after --retries" "HTTP 503" \
	D inspect --retries 2 "docker://$P/app:v1"
proxy_clear px
echo "1..$_n"
