#!/usr/bin/env bash
# The registry test infrastructure works, proven with skopeo (the independent
# client): real registries over HTTP, HTTPS + Basic auth and HTTPS + token
# auth (tests/lib/token_issuer.py), the faulty proxy (tests/lib/faulty_proxy.py)
# serving programmed faults, and the access-log counters of tests/lib/registry.sh.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"

if m=$(registry_missing); then
	skip "registry infrastructure" "missing: $m"
	echo "1..$_n"; exit 0
fi

# skopeo with nothing from the machine: no stored credentials, no registry
# configuration, a permissive policy, a bounded run time
export REGISTRY_AUTH_FILE=$T/auth.json DOCKER_CONFIG=$T/no-docker-config XDG_RUNTIME_DIR=$T/run
export CONTAINERS_REGISTRIES_CONF=$T/registries.conf
: >"$CONTAINERS_REGISTRIES_CONF"
mkdir -p "$T/run" "$T/sktmp"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$T/policy.json"
sk() { skopeo --policy "$T/policy.json" --tmpdir "$T/sktmp" --command-timeout 60s "$@"; }

# fails NAME PATTERN CMD...: the command must fail and say PATTERN (a regex)
fails() {
	local name=$1 pattern=$2; shift 2
	if "$@" >"$T/.out" 2>&1; then
		not_ok "$name"; echo "it succeeded" | diag
	elif grep -qE -- "$pattern" "$T/.out"; then
		ok "$name"
	else
		not_ok "$name"; { echo "wanted: $pattern"; cat "$T/.out"; } | diag
	fi
}

fails_quietly() { ! "$@"; }

# a two-layer OCI layout made here (not by derrick: this script tests the
# infrastructure, not derrick): a 512 KB and a 2 MB incompressible layer, so
# that a drop on any layer upload is mid-body; fresh bytes each run
python3 - "$T/img" <<'PY'
import hashlib, io, json, os, sys, tarfile, gzip
lay = sys.argv[1]
os.makedirs(lay + "/blobs/sha256")
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open("%s/blobs/sha256/%s" % (lay, d), "wb").write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
def layer(files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files:
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 0
            t.addfile(ti, io.BytesIO(data))
    diff = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
    gz = gzip.compress(raw.getvalue(), mtime=0)
    return dict(blob(gz), mediaType="application/vnd.oci.image.layer.v1.tar+gzip"), diff
l1, d1 = layer([("hello.txt", b"hello from registry_infra\n"), ("small.bin", os.urandom(512 * 1024))])
l2, d2 = layer([("big.bin", os.urandom(2 * 1024 * 1024))])
cfg = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/hello"]},
       "rootfs": {"type": "layers", "diff_ids": [d1, d2]}}
c = dict(blob(json.dumps(cfg).encode()), mediaType="application/vnd.oci.image.config.v1+json")
man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": c, "layers": [l1, l2]}
m = dict(blob(json.dumps(man).encode()), mediaType="application/vnd.oci.image.manifest.v1+json",
         annotations={"org.opencontainers.image.ref.name": "v1"})
json.dump({"schemaVersion": 2, "manifests": [m]}, open(lay + "/index.json", "w"))
open(lay + "/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
PY
IMG=oci:$T/img:v1
check "the test image is a valid layout" sk inspect "$IMG"

# --- start everything -------------------------------------------------------
start=$(date +%s%N)
registry_start reg plain && registry_start sec tls-basic && registry_start tok token reader=1 &&
	proxy_start px reg && proxy_start pt tok
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
if [[ $rc -ne 0 ]]; then
	not_ok "three registries and two proxies start"
	echo "1..$_n"; exit 1
fi
ok "three registries and two proxies start (${ms} ms)"

same "the plain registry answers /v2/ over HTTP" "$(curl -s -o /dev/null -w '%{http_code}' "$REG_URL/v2/")" 200
curl -s -D "$T/sec.h" -o /dev/null --cacert "$SEC_CA" "$SEC_URL/v2/"
check "tls-basic: HTTPS checked against the test CA, a Basic challenge" grep -qi '^www-authenticate: Basic realm=' "$T/sec.h"
curl -s -D "$T/tok.h" -o /dev/null --cacert "$TOK_CA" "$TOK_URL/v2/"
check "token: a Bearer challenge naming the issuer and service" \
	grep -qiF "www-authenticate: Bearer realm=\"$TOK_REALM\",service=\"$TOK_SERVICE\"" "$T/tok.h"
check "every address is on 127.0.0.1" \
	bash -c '[[ $REG_ADDR == 127.0.0.1:* && $SEC_ADDR == 127.0.0.1:* && $TOK_ADDR == 127.0.0.1:* && $PX_ADDR == 127.0.0.1:* && $TOK_REALM == https://127.0.0.1:* ]]'

# --- plain HTTP ---------------------------------------------------------------
registry_mark reg
check "skopeo pushes to the plain registry" sk copy -q --dest-tls-verify=false "$IMG" "docker://$REG_ADDR/app:v1"
same "registry_count: three blob uploads finished (two layers, the config)" \
	"$(registry_count reg PUT '^/v2/app/blobs/uploads/' 201)" 3
same "registry_count: one manifest PUT" "$(registry_count reg PUT '^/v2/app/manifests/v1$' 201)" 1
same "registry_count: a method regex and a status regex" "$(registry_count reg 'POST|PATCH' '/blobs/uploads/' '20[12]')" 6
check "registry_verify pulls it back with every digest checked" registry_verify reg app:v1
registry_mark reg
same "registry_mark: nothing counted since the mark" "$(registry_count reg '.*' '')" 0

# --- HTTPS + Basic --------------------------------------------------------------
registry_mark sec
check "tls-basic: skopeo pushes with the CA and the credentials" \
	sk copy -q --dest-cert-dir "$SEC_CERT_DIR" --dest-creds "$SEC_USER:$SEC_PASS" "$IMG" "docker://$SEC_ADDR/app:v1"
same "tls-basic: three blobs uploaded" "$(registry_count sec PUT '^/v2/app/blobs/uploads/' 201)" 3
fails "tls-basic: a wrong password is refused" 'unauthorized' \
	sk copy -q --dest-cert-dir "$SEC_CERT_DIR" --dest-creds "$SEC_USER:wrong$SEC_PASS" "$IMG" "docker://$SEC_ADDR/app:v2"
fails "tls-basic: without the CA the certificate is not trusted" 'x509|certificate' \
	sk copy -q --dest-creds "$SEC_USER:$SEC_PASS" "$IMG" "docker://$SEC_ADDR/app:v3"
check "tls-basic: the htpasswd file is bcrypt" grep -q "^$SEC_USER:[$]2y[$]" "$SEC_HTPASSWD"

# --- HTTPS + token ----------------------------------------------------------------
registry_mark tok
check "token: skopeo pushes through the issuer" \
	sk copy -q --dest-cert-dir "$TOK_CERT_DIR" --dest-creds "$TOK_USER:$TOK_PASS" "$IMG" "docker://$TOK_ADDR/app:v1"
same "token: three blobs uploaded" "$(registry_count tok PUT '^/v2/app/blobs/uploads/' 201)" 3
check "token: the issuer logged the push scope and granted it" \
	grep -qF "scopes=repository:app:pull,push user=$TOK_USER status=200 granted=repository:app:pull,push" "$TOK_TOKEN_LOG"
fails "token: a wrong password is refused by the issuer" 'invalid username/password' \
	sk copy -q --dest-cert-dir "$TOK_CERT_DIR" --dest-creds "$TOK_USER:nope" "$IMG" "docker://$TOK_ADDR/app:v2"
check "token: the refusal is logged" grep -qF "user=$TOK_USER status=401" "$TOK_TOKEN_LOG"
fails "token: anonymous pulls are denied" 'denied|unauthorized' \
	sk inspect --cert-dir "$TOK_CERT_DIR" --no-creds "docker://$TOK_ADDR/app:v1"
check "token: the anonymous token had no access" grep -qE 'kind=anonymous .*status=200 granted=-$' "$TOK_TOKEN_LOG"
check "token: the pull-only account can pull" \
	sk inspect --cert-dir "$TOK_CERT_DIR" --creds "$TOK_READER_USER:$TOK_READER_PASS" "docker://$TOK_ADDR/app:v1"
fails "token: the pull-only account cannot push" 'denied|unauthorized' \
	sk copy -q --dest-cert-dir "$TOK_CERT_DIR" --dest-creds "$TOK_READER_USER:$TOK_READER_PASS" "$IMG" "docker://$TOK_ADDR/other:v1"
check "token: no password in the issuer's log" bash -c '! grep -qF -e "$TOK_PASS" -e "$TOK_READER_PASS" "$TOK_TOKEN_LOG"'
curl -s --cacert "$TOK_CA" -u "$TOK_USER:$TOK_PASS" \
	"$TOK_REALM?service=$TOK_SERVICE&scope=repository:a/b:pull&scope=repository:c:push" >"$T/token.json"
same "token: the JWT (RS256, x5c, iss, aud, one access entry per scope)" "$(python3 - "$T/token.json" "$TOK_SERVICE" <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
h, c, s = d["token"].split(".")
dec = lambda x: json.loads(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
h, c = dec(h), dec(c)
print(h["alg"], len(h["x5c"]), c["iss"], c["aud"] == sys.argv[2], d["token"] == d["access_token"],
      d["expires_in"], c["exp"] - c["iat"], c["access"])
PY
)" "RS256 1 derrick-test-issuer True True 300 300 [{'type': 'repository', 'name': 'a/b', 'actions': ['pull']}, {'type': 'repository', 'name': 'c', 'actions': ['push']}]"
check "registry_verify works with token auth" registry_verify tok app:v1

# --- the faulty proxy ------------------------------------------------------------
curl -s -D "$T/post.h" -o /dev/null -X POST "$PX_URL/v2/loc/blobs/uploads/"
check "proxy: the registry's Location is rewritten to the proxy" grep -qiF "location: $PX_URL/v2/loc/blobs/uploads/" "$T/post.h"
check "proxy: a bad fault spec is refused" fails_quietly proxy_fault px PATCH first 500

# first through the proxy: skopeo's blob-info cache would have the later
# pushes mount the layers from an earlier repository, leaving only the
# config's small PATCH
registry_mark px; registry_mark reg
proxy_fault px PATCH 1 drop path=/blobs/uploads/
fails "proxy: the connection closed mid-body on the 1st PATCH fails the push" 'EOF|reset|broken pipe|closed network connection' \
	sk copy -q --dest-tls-verify=false "$IMG" "docker://$PX_ADDR/p3:v1"
same "proxy: the drop is in the proxy's log" "$(registry_count px PATCH '^/v2/p3/blobs/uploads/' 000)" 1
read -r _ _ _ got _ < <(registry_lines px PATCH '^/v2/p3/blobs/uploads/' 000)
check "proxy: the drop came in the middle of a layer's body (after ${got:-?} bytes)" test "${got:-0}" -gt 65536
check "proxy: the next push goes through" sk copy -q --dest-tls-verify=false "$IMG" "docker://$PX_ADDR/p3:v1"

registry_mark px; registry_mark reg
proxy_fault px PATCH 1 500
fails "proxy: 500 on the 1st PATCH fails the push" '500 Internal Server Error' \
	sk copy -q --dest-tls-verify=false "$IMG" "docker://$PX_ADDR/p1:v1"
same "proxy: the fault was served once and is gone" \
	"$(registry_count px PATCH '^/v2/p1/blobs/uploads/' 500) $(proxy_pending px)" "1 0"
same "proxy: the faulted PATCH never reached the registry" "$(registry_count reg PATCH '^/v2/p1/blobs/uploads/' 500)" 0
check "proxy: the next push goes through" sk copy -q --dest-tls-verify=false "$IMG" "docker://$PX_ADDR/p1:v1"

registry_mark px
proxy_fault px POST next 429 retry-after=1
start=$(date +%s%N)
check "proxy: 429 + Retry-After: 1 on the next POST, skopeo waits and retries" \
	sk copy -q --dest-tls-verify=false "$IMG" "docker://$PX_ADDR/p2:v1"
ms=$((($(date +%s%N) - start) / 1000000))
same "proxy: one 429 served, then the POST got through" \
	"$(registry_count px POST '^/v2/p2/blobs/uploads/' 429) $(( $(registry_count px POST '^/v2/p2/blobs/uploads/' 202) >= 1 )) $((ms >= 900))" "1 1 1"

registry_mark px
proxy_fault px PUT 1 500
fails "proxy: 500 on the next PUT fails the push (skopeo does not retry a 5xx)" '500 Internal Server Error' \
	sk copy -q --retry-times 1 --dest-tls-verify=false "$IMG" "docker://$PX_ADDR/p4:v1"
same "proxy: one PUT answered 500" "$(registry_count px PUT '^/v2/p4/' 500)" 1
check "proxy: the next push goes through" sk copy -q --dest-tls-verify=false "$IMG" "docker://$PX_ADDR/p4:v1"

registry_mark px
proxy_fault px PUT 1 drop path=/manifests/
check "proxy: a dropped manifest PUT, skopeo --retry-times 1 redoes the copy" \
	sk copy -q --retry-times 1 --dest-tls-verify=false "$IMG" "docker://$PX_ADDR/p5:v1"
same "proxy: the manifest PUT was dropped once, then stored" \
	"$(registry_count px PUT '^/v2/p5/manifests/v1$' 000) $(registry_count px PUT '^/v2/p5/manifests/v1$' 201)" "1 1"
check "proxy: what went through the faults verifies" registry_verify px p5:v1

registry_mark px
proxy_fault px GET 1 truncate path=/blobs/sha256:
fails "proxy: a truncated blob download fails the pull" 'EOF|unexpected' \
	sk copy -q --src-tls-verify=false "docker://$PX_ADDR/p4:v1" "oci:$T/trunc:v1"
same "proxy: the truncated GET is logged as such" "$(registry_lines px GET '/blobs/sha256:' | grep -c ' #[0-9]*:truncate$')" 1

registry_mark tok
check "proxy over HTTPS in front of the token registry" \
	sk copy -q --dest-cert-dir "$PT_CERT_DIR" --dest-creds "$PT_USER:$PT_PASS" "$IMG" "docker://$PT_ADDR/viaproxy:v1"
same "the proxied push reached the token registry" "$(registry_count tok PUT '^/v2/viaproxy/manifests/v1$' 201)" 1

echo "1..$_n"
