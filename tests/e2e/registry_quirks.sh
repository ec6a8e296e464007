#!/usr/bin/env bash
# The ways hosted registries bend the distribution API, reproduced one at a
# time on 127.0.0.1: Debian's docker-registry behind tests/lib/faulty_proxy.py,
# each quirk a switch of the proxy (or of tests/lib/token_issuer.py), each
# case naming its switch and the public report it reproduces.  These are
# reproductions of reported behaviours, not tests against the hosted services.
#
# Set-ups, started once and shared by the cases (quirks are switched on and
# off at run time): "tok", a token-auth registry (HTTPS) with a pull-only, a
# guest and a project-scoped ("job") account, behind the proxy "px"; "bas", an
# HTTPS + Basic registry behind the proxy "pb".
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"
if m=$(registry_missing); then skip "registry quirks" "missing: $m"; echo "1..$_n"; exit 0; fi

# nothing from the machine: no stored credentials
export HOME=$T/home XDG_RUNTIME_DIR=$T/run
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
unset REGISTRY_AUTH_FILE DOCKER_CONFIG

if ! { registry_start tok token reader=1 guest=1 job=groupb/ && proxy_start px tok &&
	registry_start bas tls-basic && proxy_start pb bas; }; then
	not_ok "two registries and their fronts start"
	echo "1..$_n"
	exit 1
fi
P=$PX_ADDR B=$PB_ADDR
U=(--creds "$TOK_USER:$TOK_PASS")
BU=(--creds "$BAS_USER:$BAS_PASS")
# every server uses the one test CA
D() { "$DERRICK" "$@" --cert-dir "$TOK_CERT_DIR"; }

# images: a small one, one with a 300 kB layer (several chunks at 64k), and
# two 17 MiB incompressible layers (over derrick's old 16 MiB default chunk
# and GHCR's 4 MiB PATCH limit), the same bytes every run
cp -a "$TOP_SRCDIR/testdata/golden" "$T/small"
mkdir -p "$T/mid/data" "$T/big/a" "$T/big/b"
python3 - "$T" <<'PY'
import random, sys
t = sys.argv[1]
for path, seed, size in (("mid/data/noise.bin", 1, 300 * 1024), ("big/a/one.bin", 2, 17 << 20),
                         ("big/b/two.bin", 3, 17 << 20)):
    open("%s/%s" % (t, path), "wb").write(random.Random(seed).randbytes(size))
PY
printf '{"stages":[{"name":"m","layers":[{"source":"data","dest":"/data"}]}]}' >"$T/mid/derrick.json"
printf '{"stages":[{"name":"b","layers":[{"source":"a","dest":"/a"},{"source":"b","dest":"/b"}]}]}' >"$T/big/derrick.json"
# (zstd at level 1 for the big one: fast; oci-image-tool checks gzip layers only)
for i in small mid big; do
	flags=()
	[[ $i == big ]] && flags=(--compression zstd --compression-level 1)
	(cd "$T/$i" && "$DERRICK" build -q "${flags[@]}" -o oci:"$T/$i.oci":v1) ||
		{ not_ok "building the test images"; echo "1..$_n"; exit 1; }
done

# actions FILE: the distinct blob actions of a push's --json, sorted
actions() { json_get "$1" '" ".join(sorted(set(b["action"] for b in d["blobs"])))' 2>/dev/null; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
# one_error NAME FILE WANT... [-- NOT...]: FILE (a failed command's stderr) is exactly
# one line, holding every WANT and no NOT (fixed strings, any case)
one_error() {
	local name=$1 file=$2 w bad=''
	shift 2
	[[ $(grep -c '' "$file") -eq 1 ]] || bad="not one line"
	while (($#)) && [[ $1 != -- ]]; do
		grep -qiF -- "$1" "$file" || bad+="${bad:+; }no '$1'"
		shift
	done
	[[ ${1:-} == -- ]] && shift
	for w in "$@"; do
		grep -qiF -- "$w" "$file" && bad+="${bad:+; }says '$w'"
	done
	if [[ -z $bad ]]; then ok "$name"; else not_ok "$name"; { echo "$bad:"; cat "$file"; } | diag; fi
}
# pushed NAME RC ERRFILE: the push exited 0, else its stderr as diagnostics
pushed() {
	if [[ $2 == 0 ]]; then ok "$1"; else not_ok "$1"; { echo "exit $2"; tail -n 5 "$3"; } | diag; fi
}

D push -q "${U[@]}" oci:"$T/small.oci":v1 "docker://$P/groupa/base:v1" 2>"$T/base.err"
pushed "the base image for the mount cases is pushed (groupa/base)" $? "$T/base.err"

# --- patch-limit=4M: GitHub's registry answers a PATCH body over 4 MiB with 416
# REQUESTED_RANGE_NOT_SATISFIABLE "... exceeds the maximum permissible limit of
# 4.00MiB" (wasmCloud/wash-archive#268, ocx-sh/ocx#237, oras-project/rust-oci-client#35);
# a monolithic PUT of any size is accepted.
proxy_quirk px patch-limit=4M
registry_mark px
D push --json "${U[@]}" oci:"$T/big.oci":v1 "docker://$P/ghcr/default:v1" >"$T/ghcr.json" 2>"$T/ghcr.err"
pushed "patch-limit (GHCR): two 17 MiB layers pushed with default flags" $? "$T/ghcr.err"
same "  ... no PATCH refused: the default chunk size fits GHCR's 4 MiB" \
	"$(registry_count px PATCH '/blobs/uploads/' 416)" 0
check "  ... and skopeo verifies what was stored" registry_verify tok ghcr/default:v1
registry_mark px
D push --json --jobs 1 --chunk-size 16M "${U[@]}" oci:"$T/big.oci":v1 "docker://$P/ghcr/c16:v1" \
	>"$T/ghcr16.json" 2>"$T/ghcr16.err"
pushed "patch-limit (GHCR) with --chunk-size 16M: the push falls back and succeeds" $? "$T/ghcr16.err"
same "  ... one 416, never repeated: the learned size is kept for the second layer (--jobs 1)" \
	"$(registry_count px PATCH '/blobs/uploads/' 416)" 1
check "  ... and skopeo verifies what was stored" registry_verify tok ghcr/c16:v1
proxy_unquirk px

# --- a refused mount: GitLab's token server does not grant pull on a mount's
# source in another group, and the registry answers the mount POST with 401
# (google/go-containerregistry#220, estesp/manifest-tool#53, moby/moby#20387).
# token_issuer.py --confine (registry.sh job=groupb/) does the same.
registry_mark px
tl=$(grep -c '' "$TOK_TOKEN_LOG")
D push --creds "$TOK_JOB_USER:$TOK_JOB_PASS" "docker://$P/groupa/base:v1" "docker://$P/groupb/app:v1" \
	>"$T/gitlab.out" 2>"$T/gitlab.err"
pushed "mount refused by the token server (GitLab): the push groupa/base -> groupb/app succeeds" $? "$T/gitlab.err"
same "  ... the registry did refuse a mount (401)" \
	"$(($(registry_count px POST '^/v2/groupb/app/blobs/uploads/\?mount=' 401) >= 1))" 1
check "  ... the progress lines say uploaded, none says mounted" \
	bash -c 'grep -q "^uploaded " "$1" && ! grep -q "^mounted " "$1"' _ "$T/gitlab.err"
check "  ... the mount's pull scope and the push scope were asked for in one token request" \
	bash -c 'tail -n +$(($2 + 1)) "$1" | grep -q "scopes=\(.*,\)\?repository:groupb/app:pull,push.*repository:groupa/base:pull\|scopes=.*repository:groupa/base:pull,repository:groupb/app:pull,push"' \
	_ "$TOK_TOKEN_LOG" "$tl"
check "  ... and skopeo verifies what was stored" registry_verify tok groupb/app:v1

# mount-refuse=401|403|404: the front answers every mount itself, as registries
# that will not mount do (the same reports)
for code in 401 403 404; do
	proxy_quirk px "mount-refuse=$code"
	before=$(proxy_applied px mount-refuse)
	D push --json "${U[@]}" "docker://$P/groupa/base:v1" "docker://$P/refuse$code/app:v1" \
		>"$T/refuse$code.json" 2>"$T/refuse$code.err"
	rc=$?
	same "mount-refuse=$code: the push succeeds, every blob uploaded after the refused mount" \
		"$rc $(actions "$T/refuse$code.json") $(($(proxy_applied px mount-refuse) > before))" "0 uploaded 1"
	[[ $rc == 0 ]] || diag <"$T/refuse$code.err"
done
check "  ... and skopeo verifies what was stored" registry_verify tok refuse401/app:v1
proxy_unquirk px

# no-mount: Amazon ECR has no cross-repository mount; the mount POST answers 202
# with an upload session, from= ignored (aws/containers-roadmap#1459, #2860)
proxy_quirk px no-mount
registry_mark px
D push --json "${U[@]}" "docker://$P/groupa/base:v1" "docker://$P/ecr/app:v1" >"$T/ecr.json" 2>"$T/ecr.err"
rc=$?
same "no-mount (ECR): a mount answered 202 becomes an upload; the push succeeds" \
	"$rc $(actions "$T/ecr.json") $(($(registry_count px POST '^/v2/ecr/app/blobs/uploads/\?mount=' 202) >= 1))" \
	"0 uploaded 1"
[[ $rc == 0 ]] || diag <"$T/ecr.err"
proxy_unquirk px

# --- negotiate: an SPNEGO front sends two WWW-Authenticate headers, Negotiate
# first, then the registry's Basic (google/go-containerregistry#1075,
# GoogleContainerTools/kaniko#1681)
proxy_quirk pb negotiate
curl -s -o /dev/null -D "$T/neg.h" --cacert "$BAS_CA" "$PB_URL/v2/"
same "negotiate: the front answers with Negotiate, then Basic" \
	"$(grep -i '^www-authenticate:' "$T/neg.h" | cut -d' ' -f2 | tr -d '\r' | tr '\n' ' ')" "Negotiate Basic "
D push -q "${BU[@]}" oci:"$T/small.oci":v1 "docker://$B/spnego/app:v1" 2>"$T/neg.err"
pushed "negotiate (SPNEGO front): a push with --creds uses Basic and succeeds" $? "$T/neg.err"
echo "$BAS_PASS" | D login --authfile "$T/neg-auth.json" -u "$BAS_USER" --password-stdin "$B" >"$T/neg-login.out" 2>&1
check "negotiate: derrick login succeeds" grep -q "Login Succeeded" "$T/neg-login.out"
D push -q --creds "$BAS_USER:wrong" oci:"$T/small.oci":v1 "docker://$B/spnego/app:v2" 2>"$T/neg-wrong.err"
one_error "negotiate: a wrong password is one line that does not claim there were no credentials" \
	"$T/neg-wrong.err" "401" -- "no credentials" "(null)"
D push -q oci:"$T/small.oci":v1 "docker://$B/spnego/app:v3" 2>"$T/neg-none.err"
one_error "negotiate: without credentials, one line saying so" "$T/neg-none.err" "no credentials" -- "(null)"
proxy_quirk pb negotiate=joined
D push -q "${BU[@]}" oci:"$T/small.oci":v1 "docker://$B/spnego/joined:v1" 2>"$T/neg-joined.err"
pushed "negotiate=joined: one header 'Negotiate, Basic realm=...': the push succeeds" $? "$T/neg-joined.err"
proxy_unquirk pb
proxy_quirk px negotiate
D push -q "${U[@]}" oci:"$T/small.oci":v1 "docker://$P/spnego/token:v1" 2>"$T/neg-token.err"
pushed "negotiate in front of a token registry (Negotiate, then Bearer): the push succeeds" $? "$T/neg-token.err"
proxy_unquirk px

# --- retry-after-date: a 429 whose Retry-After is an HTTP date (cvmfs/cvmfs#4110)
proxy_quirk px retry-after-date
registry_mark px
proxy_fault px POST next 429 retry-after=2 path=/blobs/uploads/
start=$(date +%s%N)
D push -q "${U[@]}" oci:"$T/small.oci":v1 "docker://$P/date/app:v1" 2>"$T/date.err"
rc=$? ms=$(ms_since "$start")
pushed "retry-after-date: a push through a 429 with 'Retry-After: <date 2 s ahead>' succeeds" $rc "$T/date.err"
same "  ... the 429 was served with a date" "$(registry_count px POST '/blobs/uploads/' 429) $(proxy_applied px retry-after-date)" "1 1"
check "  ... and the wait honoured the date: ${ms} ms (wanted 1.5 s to 7 s, not a flat 10 s)" \
	test "$ms" -ge 1500 -a "$ms" -lt 7000
proxy_fault px GET 1 429 retry-after=2 path=/manifests/
start=$(date +%s%N)
D inspect "${U[@]}" "docker://$P/date/app:v1" >"$T/date-inspect.out" 2>&1
rc=$? ms=$(ms_since "$start")
same "retry-after-date on a manifest GET: inspect succeeds" "$rc" 0
check "  ... after ${ms} ms (wanted 1.5 s to 7 s, not a flat 10 s)" test "$ms" -ge 1500 -a "$ms" -lt 7000
proxy_unquirk px

# --- insufficient_scope: a valid account without the permission gets 401 with
# error="insufficient_scope" (containers/image#410); distribution 2.8 sends
# that challenge with the body code UNAUTHORIZED "authentication required"
D push -q --creds "$TOK_READER_USER:$TOK_READER_PASS" oci:"$T/small.oci":v1 "docker://$TOK_ADDR/readonly/app:v1" \
	2>"$T/scope-push.err"
one_error "insufficient_scope: a pull-only account pushing is told it lacks push permission on the repository" \
	"$T/scope-push.err" "push permission" "readonly/app" -- "refused the credentials" "no credentials" "(null)"
D pull -q --creds "$TOK_GUEST_USER:$TOK_GUEST_PASS" --cache-dir "$T/c-guest" "$TOK_ADDR/groupa/base:v1" \
	-o oci:"$T/guest.oci" 2>"$T/scope-pull.err"
one_error "insufficient_scope: an account without pull rights is told it lacks pull permission on the repository" \
	"$T/scope-pull.err" "pull permission" "groupa/base" -- "refused the credentials" "no credentials" "(null)"

# --- behaviours derrick already handles, kept handled ---------------------------

# relative-location: GHCR answers with relative upload Locations
# (apple/swift-container-plugin#43, #44); distribution's carry a query (_state)
proxy_quirk px relative-location
registry_mark px
D push -q --chunk-size 64k "${U[@]}" oci:"$T/mid.oci":v1 "docker://$P/rel/app:v1" 2>"$T/rel.err"
pushed "relative-location (GHCR): a chunked push through relative Locations succeeds" $? "$T/rel.err"
check "  ... the Locations were relative ($(proxy_applied px relative-location) rewritten)" \
	test "$(proxy_applied px relative-location)" -ge 5
check "  ... the final PUT kept the Location's query and added digest= with '&'" \
	test "$(registry_count px PUT '^/v2/rel/app/blobs/uploads/[^?]*\?_state=[^ ]*&digest=sha256:' 201)" -ge 1
check "  ... and skopeo verifies what was stored" registry_verify tok rel/app:v1
proxy_unquirk px

# redirect-blobs: S3/GCS-backed registries redirect blob downloads (307) to
# pre-signed URLs that refuse an Authorization header (renovatebot/renovate#3877,
# open-policy-agent/opa#6580)
proxy_quirk px redirect-blobs
registry_mark px
D pull -q "${U[@]}" --cache-dir "$T/c-redir" "$P/groupa/base:v1" -o oci:"$T/redir.oci" 2>"$T/redir.err"
check "redirect-blobs (S3-backed): a pull whose blobs are redirected to a storage host succeeds" \
	oci-image-tool validate --type image "$T/redir.oci"
same "  ... the blobs came from the storage host, none with the registry's Authorization" \
	"$(($(registry_count px GET '^/storage/sha256:' 200) >= 2)) $(grep -c ' auth=yes' "$PX_LOG")" "1 0"
proxy_unquirk px

# head-401: a HEAD answered 401 without a body (ECR Public, proxies;
# buildbuddy-io/buildbuddy#12566): once per target (a renewed token gets through)
proxy_quirk px head-401=once
registry_mark px
D push -q "${U[@]}" oci:"$T/small.oci":v1 "docker://$P/head/app:v1" 2>"$T/head.err"
rc=$?
same "head-401=once: a push whose HEADs first get a bare 401 succeeds" \
	"$rc $(($(registry_count px HEAD '^/v2/head/app/blobs/' 401) >= 1))" "0 1"
[[ $rc == 0 ]] || diag <"$T/head.err"
proxy_quirk px head-401=always
D inspect "${U[@]}" "docker://$P/groupa/base:v1" >"$T/head-inspect.out" 2>&1 &&
	D pull -q "${U[@]}" --cache-dir "$T/c-head" "$P/groupa/base:v1" -o oci:"$T/head.oci" 2>>"$T/head-inspect.out"
rc=$?
same "head-401=always: inspect and pull do not depend on HEAD" "$rc" 0
[[ $rc == 0 ]] || diag <"$T/head-inspect.out"
proxy_unquirk px

# minimal-answer (token issuer): a token answer with only access_token, no
# expires_in (Azure ACR and others; containerd/overlaybd#35)
issuer_quirk tok minimal-answer
D push -q "${U[@]}" oci:"$T/small.oci":v1 "docker://$P/minimal/app:v1" 2>"$T/minimal.err" &&
	D pull -q "${U[@]}" --cache-dir "$T/c-min" "$P/minimal/app:v1" -o oci:"$T/minimal.oci" 2>>"$T/minimal.err"
rc=$?
same "minimal-answer (ACR): push and pull with tokens that have only access_token" \
	"$rc $(($(grep -c 'repository:minimal/app.* answer=minimal$' "$TOK_TOKEN_LOG") >= 2))" "0 1"
[[ $rc == 0 ]] || diag <"$T/minimal.err"
issuer_unquirk tok

# realm-path: a token realm on another port with a path prefix and a query of its
# own (Artifactory, Nexus, Harbor; dotnet/sdk-container-builds#284)
proxy_quirk px realm-path=/auth/v2/token?tenant=derrick
D push -q "${U[@]}" oci:"$T/small.oci":v1 "docker://$P/realm/app:v1" 2>"$T/realm.err"
pushed "realm-path: a push whose realm is /auth/v2/token?tenant=derrick succeeds" $? "$T/realm.err"
same "  ... every token request went to that path with the realm's query kept" \
	"$(($(grep -c '^[^ ]* GET /auth/v2/token?tenant=derrick kind=basic .*repository:realm/app' "$TOK_TOKEN_LOG") >= 1)) $(grep -c ' GET /token .*repository:realm/app' "$TOK_TOKEN_LOG")" \
	"1 0"
proxy_unquirk px

# scheme-case: challenge scheme names in other cases (devcontainers/cli#884)
proxy_quirk px scheme-case=upper
D push -q "${U[@]}" oci:"$T/small.oci":v1 "docker://$P/case/app:v1" 2>"$T/case.err"
pushed "scheme-case=upper: 'BEARER realm=...': the push succeeds" $? "$T/case.err"
proxy_unquirk px
proxy_quirk pb scheme-case=lower
D push -q "${BU[@]}" oci:"$T/small.oci":v1 "docker://$B/case/app:v1" 2>"$T/case-basic.err"
pushed "scheme-case=lower: 'basic realm=...': the push succeeds" $? "$T/case-basic.err"
proxy_unquirk pb

# digest-header: Docker-Content-Digest missing or bare hex
# (distribution/distribution#3792, #2395): derrick computes digests itself
for how in missing bare; do
	proxy_quirk px "digest-header=$how"
	before=$(proxy_applied px digest-header)
	D push -q "${U[@]}" oci:"$T/small.oci":v1 "docker://$P/digest-$how/app:v1" 2>"$T/digest-$how.err" &&
		D pull -q "${U[@]}" --cache-dir "$T/c-$how" "$P/digest-$how/app:v1" -o oci:"$T/digest-$how.oci" \
			2>>"$T/digest-$how.err"
	rc=$?
	same "digest-header=$how: push and pull succeed" "$rc $(($(proxy_applied px digest-header) > before))" "0 1"
	[[ $rc == 0 ]] || diag <"$T/digest-$how.err"
done
proxy_unquirk px

nulls=$(grep -lF '(null)' "$T"/*.err "$T"/*.out "$T"/*.json 2>/dev/null)
same "no output of any case shows a NULL given to printf %s" "$nulls" ""
echo "1..$_n"
