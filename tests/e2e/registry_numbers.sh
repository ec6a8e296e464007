#!/usr/bin/env bash
# The numbers a registry's answers carry are range-checked before derrick
# computes with them: an "expires_in" of 2^63-1 once overflowed the expiry
# time (fuzzing found it), so no token was ever reused and each request
# fetched (and kept) another; an upload status whose Range claims more than
# was sent is not resumed from.  And a Bearer challenge without a realm is
# an error that says so.  Debian's docker-registry with
# tests/lib/token_issuer.py, behind tests/lib/faulty_proxy.py.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"
if m=$(registry_missing); then skip "token numbers" "missing: $m"; echo "1..$_n"; exit 0; fi

registry_start tok token && proxy_start px tok || exit 1
U=(--creds "$TOK_USER:$TOK_PASS")
D() { "$DERRICK" "$@" --cert-dir "$TOK_CERT_DIR"; }
cp -a "$TOP_SRCDIR/testdata/golden" "$T/g"
(cd "$T/g" && "$DERRICK" build -q -o oci:"$T/img":v1) || exit 1
D push -q "${U[@]}" oci:"$T/img":v1 "docker://$TOK_ADDR/app:v1" || exit 1

# tokens_for CMD...: how many token requests one derrick run makes
tokens_for() {
	local before
	before=$(grep -c '' "$TOK_TOKEN_LOG")
	"$@" >"$T/run.out" 2>&1 || { echo "failed: $(tail -n 2 "$T/run.out")"; return; }
	echo $(($(grep -c '' "$TOK_TOKEN_LOG") - before))
}

rm -rf "$T/p1"
normal=$(tokens_for D pull -q "${U[@]}" --jobs 1 --cache-dir "$T/c1" "docker://$TOK_ADDR/app:v1" -o oci:"$T/p1":v1)
issuer_quirk tok huge-expiry || exit 1
rm -rf "$T/p2"
huge=$(tokens_for D pull -q "${U[@]}" --jobs 1 --cache-dir "$T/c2" "docker://$TOK_ADDR/app:v1" -o oci:"$T/p2":v1)
issuer_unquirk tok huge-expiry
echo "# token requests per pull: $normal, with expires_in 2^63-1: $huge"
same "expires_in 2^63-1: a pull asks for as many tokens as with expires_in 300 ($normal)" "$huge" "$normal"
check "  ... and the pull is complete" oci-image-tool validate --type image "$T/p2"

# an upload broken mid-way, then a status saying the registry holds 100 GB of it
mkdir -p "$T/mid/data"
head -c 300000 /dev/urandom >"$T/mid/data/blob"
printf '{"stages": [{"name": "m", "layers": [{"source": "data", "dest": "/d"}]}]}\n' \
	>"$T/mid/derrick.json"
(cd "$T/mid" && "$DERRICK" build -q -o oci:"$T/mid.oci":v1) || exit 1
proxy_fault px "PATCH 2 drop" && proxy_fault px "GET 1 pass path=/blobs/uploads/. range=0-99999999999" || exit 1
D push -v "${U[@]}" --jobs 1 --chunk-size 64k oci:"$T/mid.oci":v1 "docker://$PX_ADDR/mid:v1" >/dev/null 2>"$T/range.err"
rc=$?
same "an upload status claiming more than was sent: the push starts over and succeeds" "$rc" 0 || diag <"$T/range.err"
check "  ... saying why it did not resume" grep -q "the registry reports 100000000000 bytes received, of [0-9]* sent" "$T/range.err"
check "  ... the lying status was really sent" test "$(proxy_pending px)" = 0
check "  ... and skopeo verifies what was stored" registry_verify tok mid:v1

proxy_quirk px no-realm || exit 1
expect_error "a Bearer challenge without a realm: an error that says so" \
	"$PX_ADDR: Bearer challenge without a realm" \
	D pull -q "${U[@]}" "docker://$PX_ADDR/app:v1" -o oci:"$T/p3":v1
differ "  ... the proxy really sent one" "$(proxy_applied px no-realm)" 0
echo "1..$_n"
