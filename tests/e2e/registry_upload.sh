#!/usr/bin/env bash
# Uploads to registries that refuse request bodies as too large, or refuse
# mounts (issue #9, faults 1 and 2, and their neighbours), through the
# quirk switches of tests/lib/faulty_proxy.py: what derrick learns is kept
# for the rest of the push, on every thread; a refused mount is an upload;
# a 416 that is a refusal is told apart from one that is a range mismatch.
# registry_quirks.sh reproduces each reported behaviour; this script checks
# how derrick adapts, request by request.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"
if m=$(registry_missing); then skip "registry upload tests" "missing: $m"; echo "1..$_n"; exit 0; fi

if ! { registry_start tok token job=groupb/ && proxy_start px tok; }; then
	not_ok "a token registry and its front start"
	echo "1..$_n"
	exit 1
fi
P=$PX_ADDR
U=(--creds "$TOK_USER:$TOK_PASS")
J=(--creds "$TOK_JOB_USER:$TOK_JOB_PASS")
D() { "$DERRICK" "$@" --cert-dir "$TOK_CERT_DIR"; }

# four incompressible layers of 600 KiB (the same bytes every run), one image
mkdir -p "$T/four"
python3 - "$T/four" <<'PY'
import os, random, sys
for i in range(4):
    os.makedirs("%s/l%d" % (sys.argv[1], i))
    open("%s/l%d/noise.bin" % (sys.argv[1], i), "wb").write(random.Random(90 + i).randbytes(600 * 1024))
PY
printf '{"stages":[{"name":"s","layers":[%s]}]}' \
	'{"source":"l0","dest":"/0"},{"source":"l1","dest":"/1"},{"source":"l2","dest":"/2"},{"source":"l3","dest":"/3"}' \
	>"$T/four/derrick.json"
(cd "$T/four" && "$DERRICK" build -q -o oci:"$T/four.oci":v1) || { not_ok "building the test image"; echo "1..$_n"; exit 1; }
layer_size=$("$DERRICK" inspect --json oci:"$T/four.oci":v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["size"])')

# largest METHOD STATUS: the largest upload request body through px since its mark (0: none)
largest() { proxy_bodies px "$1" '/blobs/uploads/' "$2" | sort -n | tail -n 1 | grep . || echo 0; }
pushed() {
	if [[ $2 == 0 ]]; then ok "$1"; else not_ok "$1"; { echo "exit $2"; tail -n 5 "$3"; } | diag; fi
}
actions() { json_get "$1" '" ".join(sorted(set(b["action"] for b in d["blobs"])))' 2>/dev/null; }

# --- a PATCH limit that states its size: one refusal, then exactly that size
proxy_quirk px patch-limit=300k
registry_mark px
D push -v --jobs 1 --chunk-size 512k "${U[@]}" oci:"$T/four.oci":v1 "docker://$P/said/app:v1" 2>"$T/said.err" >/dev/null
pushed "a 416 stating 'limit of 0.29MiB': the push completes" $? "$T/said.err"
same "  ... one PATCH refused in the whole push (--jobs 1, four layers)" "$(registry_count px PATCH . 416)" 1
same "  ... then every PATCH carries at most the stated 0.29 MiB (304087 bytes), not a halved 512 KiB" \
	"$(largest PATCH 202)" 304087
same "  ... the refused chunk was not sent again as it was: the registry's Range was asked first" \
	"$(registry_lines px 'PATCH|GET' '/blobs/uploads/' | awk '$3 == 416 { getline; print $1 }')" GET
check "  ... and skopeo verifies what was stored" registry_verify tok said/app:v1

# --- parallel uploads share what one of them learnt
registry_mark px
D push --jobs 2 --chunk-size 512k "${U[@]}" oci:"$T/four.oci":v1 "docker://$P/shared/app:v1" 2>"$T/shared.err" >/dev/null
pushed "--jobs 2, four layers behind the same limit: the push completes" $? "$T/shared.err"
check "  ... at most one refusal per thread ($(registry_count px PATCH . 416)), none for the layers after" \
	test "$(registry_count px PATCH . 416)" -ge 1 -a "$(registry_count px PATCH . 416)" -le 2
proxy_unquirk px patch-limit

# --- a limit that gives no size (a 413 from a proxy, or a bare 416): half, then half again
registry_mark px
proxy_fault px PATCH 1 413 path=/blobs/uploads/
proxy_fault px PATCH 2 416 path=/blobs/uploads/
D push --jobs 1 --chunk-size 512k "${U[@]}" oci:"$T/four.oci":v1 "docker://$P/half/app:v1" 2>"$T/half.err" >/dev/null
pushed "a 413 and then a 416 that say no size: the push completes" $? "$T/half.err"
same "  ... PATCH bodies went 512 KiB (refused), 256 KiB (refused), then 128 KiB" \
	"$(proxy_bodies px PATCH . | sed -n 1,3p | tr '\n' ' ')$(largest PATCH 202)" "524288 262144 131072 131072"
check "  ... and skopeo verifies what was stored" registry_verify tok half/app:v1

# --- a front whose limit applies to PUT bodies too: the monolithic PUT of a
# blob under the chunk size is refused (413); the blob goes in PATCHes of
# half its size, and so does every later body of the push, PUTs included
registry_mark px
proxy_fault px PUT 1 413 path=/blobs/uploads/
D push --jobs 1 "${U[@]}" oci:"$T/four.oci":v1 "docker://$P/put/app:v1" 2>"$T/put.err" >/dev/null
pushed "a 413 on a monolithic PUT: the push completes" $? "$T/put.err"
same "  ... the refused PUT carried the whole layer" "$(proxy_bodies px PUT . 413)" "$layer_size"
check "  ... every body after it is at most half of that (largest: $(largest 'PATCH|PUT' '20[12]'))" \
	test "$(largest 'PATCH|PUT' '20[12]')" -le $((layer_size / 2))
same "  ... four layers, so at least eight PATCHes" "$(($(registry_count px PATCH . 202) >= 8))" 1
check "  ... and skopeo verifies what was stored" registry_verify tok put/app:v1

# --- a registry that refuses even small bodies: no endless halving, one clear line
registry_mark px
proxy_quirk px patch-limit=1k
expect_error "PATCH bodies of 64 KiB refused: the push stops with one line naming the size" \
	"(65536 bytes in one request): HTTP 416" D push -q --jobs 1 --chunk-size 64k "${U[@]}" oci:"$T/four.oci":v1 "docker://$P/tiny/app:v1"
same "  ... after one refusal, not five identical retries" "$(registry_count px PATCH . 416)" 1
proxy_unquirk px patch-limit

# --- a 416 that is no size refusal: the registry took the chunk, yet answers
# 416 (its state and derrick's differ).  distribution then no longer knows the
# session by its old Location, so the upload starts again; the chunk size is
# not lowered for it
registry_mark px
proxy_fault px PATCH 2 416 forward=1
D push -v --jobs 1 --chunk-size 256k "${U[@]}" oci:"$T/four.oci":v1 "docker://$P/skew/app:v1" 2>"$T/skew.err" >/dev/null
pushed "a 416 after the registry took the chunk: the push completes" $? "$T/skew.err"
same "  ... the upload of that layer started again in a new session" \
	"$(registry_lines px 'POST|PATCH|GET' '/blobs/uploads/' | awk '$3 == 416 { getline; a = $3; getline; print a, $1, $3 }')" \
	"404 POST 202"
same "  ... and the chunk size was not lowered: 256 KiB PATCHes, three a layer, and the one sent again" \
	"$(proxy_bodies px PATCH . 202 | sort -n | tail -n 1) $(registry_count px PATCH . 202)" "262144 13"
check "  ... and skopeo verifies what was stored" registry_verify tok skew/app:v1

# --- mounts the registry refuses.  The project-scoped account (GitLab's
# tokens) may push only under groupb/: the mount from groupa/base gets 401
D push -q "${U[@]}" oci:"$T/four.oci":v1 "docker://$P/groupa/base:v1" 2>"$T/base.err"
pushed "the base image is pushed (groupa/base)" $? "$T/base.err"
registry_mark px
tl=$(grep -c '' "$TOK_TOKEN_LOG")
D push --jobs 1 --cache-dir "$T/c1" "${J[@]}" "docker://$P/groupa/base:v1" "docker://$P/groupb/app:v1" \
	>/dev/null 2>"$T/gl.err"
pushed "a mount refused (401) by a GitLab-like token server: the push completes" $? "$T/gl.err"
same "  ... the progress lines say uploaded, five times, never mounted" \
	"$(grep -c '^uploaded ' "$T/gl.err") $(grep -c '^mounted ' "$T/gl.err")" "5 0"
same "  ... only the first blob's mount was asked for: a source refused once is not asked again" \
	"$(registry_lines px POST '^/v2/groupb/app/blobs/uploads/\?mount=' | sed 's/.*mount=\([^&]*\).*/\1/' | sort -u | wc -l)" 1
same "  ... the push token was asked for once: the refused mount did not spoil it" \
	"$(tail -n +$((tl + 1)) "$TOK_TOKEN_LOG" | grep -c ' scopes=repository:groupb/app:pull,push user=job ')" 1
check "  ... and skopeo verifies what was stored" registry_verify tok groupb/app:v1

# the same as a build: a base in groupa, the output in groupb
cat >"$T/four/on-base.json" <<JSON
{ "base": "docker://$P/groupa/base:v1",
  "stages": [ { "name": "x", "layers": [ { "source": "l0", "dest": "/extra" } ] } ] }
JSON
(cd "$T/four" && D build --cache-dir "$T/c2" "${J[@]}" -f on-base.json -o "docker://$P/groupb/built:v1" \
	>"$T/glb.out" 2>"$T/glb.err")
pushed "a build on groupa/base pushed to groupb/built with the project account completes" $? "$T/glb.err"
same "  ... its blobs uploaded, none mounted" "$(grep -c '^mounted ' "$T/glb.err") $(($(grep -c '^uploaded ' "$T/glb.err") >= 5))" "0 1"
check "skopeo verifies the built image" registry_verify tok groupb/built:v1

# --- a mount answered 202 (ECR: from= ignored, an upload session opened): the
# blob goes into that session; no second POST, no session left behind
proxy_quirk px no-mount
registry_mark px
D push --json --jobs 1 --cache-dir "$T/c3" "${U[@]}" "docker://$P/groupa/base:v1" "docker://$P/ecr/app:v1" \
	>"$T/ecr.json" 2>"$T/ecr.err"
pushed "no-mount (ECR): the push completes" $? "$T/ecr.err"
same "  ... blobs reported uploaded" "$(actions "$T/ecr.json")" uploaded
same "  ... every blob went into the session its mount opened: no other POST" \
	"$(registry_count px POST '^/v2/ecr/app/blobs/uploads/\?mount=' 202) $(registry_count px POST '^/v2/ecr/app/blobs/uploads/$')" "5 0"
check "  ... and skopeo verifies what was stored" registry_verify tok ecr/app:v1

proxy_unquirk px

# a session a mount opened, whose blob then cannot be read, is cancelled at
# the end (DELETE, best effort: distribution wants the delete action for it,
# which a push token lacks, so this runs on a registry without auth)
registry_start reg plain && proxy_start pp reg no-mount || exit 1
layer=$("$DERRICK" inspect --json oci:"$T/four.oci":v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
"$DERRICK" push -q --tls-verify=false oci:"$T/four.oci":v1 "docker://$PP_ADDR/groupa/base:v1" 2>"$T/pbase.err"
registry_mark pp
proxy_fault pp GET 1 500 "path=/blobs/$layer"
"$DERRICK" push -q --tls-verify=false --jobs 1 --retries 0 --cache-dir "$T/c4" "docker://$PP_ADDR/groupa/base:v1" \
	"docker://$PP_ADDR/ecr/lost:v1" 2>"$T/lost.err"
differ "the source's blob cannot be read: the push fails" "$?" 0
same "  ... and the session its mount had opened is cancelled (DELETE)" \
	"$(registry_count pp POST '^/v2/ecr/lost/blobs/uploads/\?mount=' 202) $(registry_count pp DELETE '^/v2/ecr/lost/blobs/uploads/' 204)" "1 1"
echo "1..$_n"
