#!/usr/bin/env bash
# Registries with authentication: HTTPS with a CA of the test's own and
# htpasswd Basic auth; the Bearer token flow with a token issuer the suite
# runs.  login/logout and the auth file, credential lookup order, a real
# credential helper, and no secret in any output.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"
if m=$(registry_missing); then skip "registry auth tests" "missing: $m"; echo "1..$_n"; exit 0; fi

cp -a "$TOP_SRCDIR/testdata/golden" "$T/g"
(cd "$T/g" && "$DERRICK" build -q -o oci:"$T/img":v1)
export HOME=$T/home XDG_RUNTIME_DIR=$T/run
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
unset REGISTRY_AUTH_FILE DOCKER_CONFIG

# --- HTTPS + Basic ----------------------------------------------------------
registry_start sec tls-basic || exit 1
S=$SEC_ADDR
expect_error "TLS is verified by default (the test CA is unknown)" "SSL certificate problem" \
	"$DERRICK" push -q oci:"$T/img":v1 "docker://$S/app:v1"
expect_error "no credentials: the registry's 401 in one line" "HTTP 401 (no credentials for this registry" \
	"$DERRICK" push -q --cert-dir "$SEC_CERT_DIR" oci:"$T/img":v1 "docker://$S/app:v1"
expect_error "--creds with a wrong password" "HTTP 401 (the registry refused the credentials)" \
	"$DERRICK" push -q --cert-dir "$SEC_CERT_DIR" --creds "$SEC_USER:wrong-$SEC_PASS" oci:"$T/img":v1 "docker://$S/app:v1"
check "--creds with the right password" \
	"$DERRICK" push -q --cert-dir "$SEC_CERT_DIR" --creds "$SEC_USER:$SEC_PASS" oci:"$T/img":v1 "docker://$S/app:v1"

AF=$T/auth/auth.json
expect_error "login with a wrong password" "wrong username or password" \
	sh -c 'echo "wrong" | "$0" login --authfile "$1" --cert-dir "$2" -u "$3" --password-stdin "$4"' \
	"$DERRICK" "$AF" "$SEC_CERT_DIR" "$SEC_USER" "$S"
check "  ... writes no auth file" test ! -e "$AF"
echo "$SEC_PASS" | "$DERRICK" login --authfile "$AF" --cert-dir "$SEC_CERT_DIR" -u "$SEC_USER" --password-stdin "$S" >"$T/login.out" 2>&1
check "login with the right password" grep -q "Login Succeeded" "$T/login.out"
same "  ... the auth file is mode 0600" "$(stat -c %a "$AF")" "600"
same "  ... and holds the registry's entry" "$(json_get "$AF" '"auth" in d["auths"]["'"$S"'"]')" "True"
"$DERRICK" push -v --json --cert-dir "$SEC_CERT_DIR" --authfile "$AF" oci:"$T/img":v1 "docker://$S/app:v2" >"$T/push.out" 2>&1
check "push with --authfile" grep -q '"manifest_digest"' "$T/push.out"
check "pull with --authfile" "$DERRICK" pull -q --cert-dir "$SEC_CERT_DIR" --authfile "$AF" --cache-dir "$T/c1" "$S/app:v2" -o oci:"$T/p1"
REGISTRY_AUTH_FILE=$AF "$DERRICK" inspect --cert-dir "$SEC_CERT_DIR" "docker://$S/app:v2" >"$T/inspect.out" 2>&1
check "credentials from \$REGISTRY_AUTH_FILE" grep -q "manifest:" "$T/inspect.out"
mkdir -p "$XDG_RUNTIME_DIR/containers" && cp "$AF" "$XDG_RUNTIME_DIR/containers/auth.json"
check "credentials from \$XDG_RUNTIME_DIR/containers/auth.json" \
	"$DERRICK" inspect --cert-dir "$SEC_CERT_DIR" "docker://$S/app:v2"
rm "$XDG_RUNTIME_DIR/containers/auth.json"
mkdir -p "$HOME/.docker" && cp "$SEC_DOCKER_CONFIG/config.json" "$HOME/.docker/config.json"
check "credentials from ~/.docker/config.json" "$DERRICK" inspect --cert-dir "$SEC_CERT_DIR" "docker://$S/app:v2"
# a real credential helper, found on PATH, speaking the docker-credential protocol
mkdir -p "$T/bin"
cat >"$T/bin/docker-credential-dktest" <<SH
#!/bin/sh
[ "\$1" = get ] || exit 1
read -r url
if [ "\$url" = "$S" ]; then
	printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "$S" "$SEC_USER" "$SEC_PASS"
else
	echo "credentials not found in native keychain"; exit 1
fi
SH
chmod +x "$T/bin/docker-credential-dktest"
printf '{"credHelpers": {"%s": "dktest"}}\n' "$S" >"$HOME/.docker/config.json"
PATH=$T/bin:$PATH "$DERRICK" inspect --cert-dir "$SEC_CERT_DIR" "docker://$S/app:v2" >"$T/helper.out" 2>&1
check "credentials from a docker-credential helper (credHelpers)" grep -q "manifest:" "$T/helper.out"
rm -f "$HOME/.docker/config.json"
# the password prompt on a terminal (script(1) gives login one): read without echo
if command -v script >/dev/null; then
	# typed a moment later, as a person would (input typed ahead is echoed by the terminal itself)
	{ sleep 1; printf '%s\n' "$SEC_PASS"; } | script -qec "$DERRICK login --authfile $T/tty-auth.json --cert-dir $SEC_CERT_DIR -u $SEC_USER $S" \
		"$T/tty.typescript" >/dev/null 2>&1
	check "login at a terminal prompt: accepted" grep -q "Login Succeeded" "$T/tty.typescript"
	check "  ... and the password was not echoed" bash -c '! grep -qF -- "$1" "$2"' _ "$SEC_PASS" "$T/tty.typescript"
else
	skip "login at a terminal prompt" "script(1) is missing"
fi
"$DERRICK" logout --authfile "$AF" "$S" >"$T/logout.out" 2>&1
check "logout removes the entry" test "$(json_get "$AF" 'len(d["auths"])')" = 0
expect_error "after logout: 401 again" "HTTP 401" \
	"$DERRICK" inspect --cert-dir "$SEC_CERT_DIR" --authfile "$AF" "docker://$S/app:v2"
check "--tls-verify=false accepts the unknown CA" \
	"$DERRICK" inspect --tls-verify=false --creds "$SEC_USER:$SEC_PASS" "docker://$S/app:v2"
# a 403 (GHCR, Harbor, Quay: DENIED) is a permission error, never a credential one
proxy_start pxs sec || exit 1
proxy_fault pxs PUT 1 403 path=/manifests/
expect_error "403 on a push: the account lacks push permission on the repository" \
	"HTTP 403 DENIED: injected by faulty_proxy (fault #1) (the account \"$SEC_USER\" lacks push permission on $PXS_ADDR/team/app)" \
	"$DERRICK" push -q --cert-dir "$SEC_CERT_DIR" --creds "$SEC_USER:$SEC_PASS" oci:"$T/img":v1 "docker://$PXS_ADDR/team/app:v1"
proxy_fault pxs GET 1 403 path=/manifests/
expect_error "403 on a pull: the account lacks pull permission" \
	"(the account \"$SEC_USER\" lacks pull permission on $PXS_ADDR/app)" \
	"$DERRICK" pull -q --cert-dir "$SEC_CERT_DIR" --creds "$SEC_USER:$SEC_PASS" "$PXS_ADDR/app:v2" -o oci:"$T/e403"

# --- the Bearer token flow --------------------------------------------------
registry_start tok token reader=1 || exit 1
K=$TOK_ADDR
"$DERRICK" push -v --json --cert-dir "$TOK_CERT_DIR" --creds "$TOK_USER:$TOK_PASS" oci:"$T/img":v1 "docker://$K/base:v1" >"$T/tok-push.out" 2>&1
check "token auth: push" grep -q '"manifest_digest"' "$T/tok-push.out"
check "  ... the token asked for pull,push on the target" grep -q "repository:base:pull,push" "$TOK_TOKEN_LOG"
"$DERRICK" push --json --cert-dir "$TOK_CERT_DIR" --creds "$TOK_USER:$TOK_PASS" "docker://$K/base:v1" "docker://$K/copy:v1" >"$T/tok-mount.json" 2>"$T/tok-mount.err"
same "token auth: a copy to another repository mounts every blob" \
	"$(json_get "$T/tok-mount.json" '" ".join(sorted(set(b["action"] for b in d["blobs"])))')" "mounted"
check "  ... with pull scope on the mount's source" grep -q "repository:base:pull" "$TOK_TOKEN_LOG"
expect_error "token auth: a wrong password" "wrong username or password" \
	"$DERRICK" pull --cert-dir "$TOK_CERT_DIR" --creds "$TOK_USER:nope" "$K/base:v1" -o oci:"$T/e1"
expect_error "token auth: anonymous pull of a private repository" "HTTP 401" \
	"$DERRICK" pull --cert-dir "$TOK_CERT_DIR" "$K/base:v1" -o oci:"$T/e2"
# a valid pull-only account pushing: the registry's 401 says error="insufficient_scope"
expect_error "token auth: a pull-only account pushing is told it lacks push permission" \
	"HTTP 401 UNAUTHORIZED: authentication required (the account \"$TOK_READER_USER\" lacks push permission on $K/ro-push)" \
	"$DERRICK" push -q --cert-dir "$TOK_CERT_DIR" --creds "$TOK_READER_USER:$TOK_READER_PASS" oci:"$T/img":v1 "docker://$K/ro-push:v1"
same "  ... and its token is asked for once, not again after the refusal" \
	"$(grep -c "scopes=repository:ro-push:pull,push user=$TOK_READER_USER " "$TOK_TOKEN_LOG")" 1
expect_error "token auth: a pull-only account pushing where the blobs exist: the manifest PUT says so too" \
	"PUT manifest: HTTP 401 UNAUTHORIZED: authentication required (the account \"$TOK_READER_USER\" lacks push permission on $K/base)" \
	"$DERRICK" push -q --cert-dir "$TOK_CERT_DIR" --creds "$TOK_READER_USER:$TOK_READER_PASS" oci:"$T/img":v1 "docker://$K/base:v9"
check "token auth: the pull-only account pulls" \
	"$DERRICK" pull -q --cert-dir "$TOK_CERT_DIR" --creds "$TOK_READER_USER:$TOK_READER_PASS" "$K/base:v1" -o oci:"$T/ro-pull"
skopeo copy -q --dest-cert-dir "$TOK_CERT_DIR" --dest-creds "$TOK_USER:$TOK_PASS" oci:"$T/img":v1 "docker://$K/by-skopeo:v1" >/dev/null 2>&1
echo "$TOK_PASS" | "$DERRICK" login --authfile "$T/tok-auth.json" --cert-dir "$TOK_CERT_DIR" -u "$TOK_USER" --password-stdin "$K" >/dev/null 2>&1
check "token auth: login checks through the token server" test -s "$T/tok-auth.json"
same "token auth: derrick reads what skopeo pushed" \
	"$("$DERRICK" inspect --json --cert-dir "$TOK_CERT_DIR" --authfile "$T/tok-auth.json" "docker://$K/by-skopeo:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest_digest"])')" \
	"$(skopeo inspect --cert-dir "$TOK_CERT_DIR" --creds "$TOK_USER:$TOK_PASS" "docker://$K/by-skopeo:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')"

# --- tokens that expire in the middle of a push are renewed -----------------
registry_start tok2 token expires_in=3 || exit 1
proxy_start px2 tok2 || exit 1
mkdir -p "$T/big/data" && head -c 2000000 /dev/urandom >"$T/big/data/noise.bin"
printf '{"stages":[{"name":"a","layers":[{"source":"data","dest":"/d"}]}]}' >"$T/big/derrick.json"
(cd "$T/big" && "$DERRICK" build -q -o oci:"$T/bigimg":v1)
proxy_fault px2 PATCH 2 pass delay=4
"$DERRICK" push --json --chunk-size 256k --cert-dir "$PX2_CERT_DIR" --creds "$TOK2_USER:$TOK2_PASS" \
	oci:"$T/bigimg":v1 "docker://$PX2_ADDR/slow:v1" >"$T/slow.json" 2>"$T/slow.err"
check "a push that outlives its token (3 s, one chunk takes 4 s) completes" grep -q '"manifest_digest"' "$T/slow.json"
check "  ... after renewing the token" test "$(grep -c 'repository:slow:pull,push' "$TOK2_TOKEN_LOG")" -ge 2

# --- no secret anywhere ---------------------------------------------------
leaks=$(grep -rlF -e "$SEC_PASS" -e "$TOK_PASS" -e "$TOK_READER_PASS" -e "$TOK2_PASS" "$T"/*.out "$T"/*.err "$T"/*.json 2>/dev/null)
same "no password in any output, error or -v log" "$leaks" ""
echo "1..$_n"
