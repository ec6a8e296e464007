#!/usr/bin/env bash
# A Debian source's Packages indexes (debrepo.h) from the suite's local
# repositories (tests/lib/deb-repo.sh: real packages, apt-ftparchive, a
# throw-away key), through the driver tests/lib/deb_fetch: the signed one
# is read, and the bytes derrick hands on are the Packages apt-ftparchive
# wrote; every way a source can be untrustworthy is refused in one line
# naming the URL (unsigned, signed by another key, an index whose SHA256
# differs from Release's, Valid-Until passed, a Release changed under its
# detached signature), and "trusted" takes an unsigned source as apt does.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/deb_repo_serve.sh"

TOOL=$(dirname "$DERRICK")/tests/lib/deb_fetch
if [[ ! -x $TOOL ]] || ! command -v gpgv >/dev/null; then
	skip "deb repositories" "needs tests/lib/deb_fetch (make check) and gpgv"
	echo "1..$_n"
	exit 0
fi
rc=0
deb_repo_start || rc=$?
if [[ $rc -ne 0 ]]; then
	if [[ $rc -eq 77 ]]; then skip "deb repositories" "tests/lib/deb-repo.sh cannot build them here"; else not_ok "deb repositories built and served"; fi
	echo "1..$_n"
	exit 0
fi
K=$DEBREPO_DIR/keyring.gpg
U=$DEBREPO_URL
D=$DEBREPO_DIR/good/dists/bookworm
fetch() { "$TOOL" "$@"; }

# --- the signed source ---
mkdir -p "$T/dump"
check "signed source read (amd64 and arm64)" fetch --keyring "$K" --dump "$T/dump" "$U/good" bookworm main amd64,arm64
fetch --keyring "$K" "$U/good" bookworm main amd64,arm64 >"$T/good.out" 2>&1
mkdir -m 700 "$T/gnupg"
fpr=$(gpg --homedir "$T/gnupg" --batch --with-colons --show-keys "$K" 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')
same "the signer is the keyring's key (gpgv's VALIDSIG)" "$(awk '$1 == "signer" { print $2 }' "$T/good.out")" "$fpr"
same "InRelease read" "$(awk '$1 == "release" { print $2 }' "$T/good.out")" "$U/good/dists/bookworm/InRelease"
same "base URL for Filename" "$(awk '$1 == "base" { print $2 }' "$T/good.out")" "$U/good/"
check "amd64 Packages: apt-ftparchive's bytes" cmp "$T/dump/main_amd64" "$D/main/binary-amd64/Packages"
check "arm64 Packages: apt-ftparchive's bytes" cmp "$T/dump/main_arm64" "$D/main/binary-arm64/Packages"
same "amd64 stanzas" "$(awk '$1 == "index" && $3 == "amd64" { print $7 }' "$T/good.out")" "$(grep -c '^Package:' "$D/main/binary-amd64/Packages")"
same "arm64 has arm64 packages" "$(grep -c '^Architecture: arm64' "$T/dump/main_arm64")" "$(grep -c '^Architecture: arm64' "$D/main/binary-arm64/Packages")"
same "the .xz index is the one fetched" "$(awk '$1 == "index" { print $4 }' "$T/good.out" | sed 's|.*/||' | sort -u)" "Packages.xz"
same "its SHA256 is Release's" "$(awk '$1 == "index" && $3 == "amd64" { print $5 }' "$T/good.out")" \
	"$(awk '/^SHA256:/ { s = 1; next } /^[^ ]/ { s = 0 } s && $3 == "main/binary-amd64/Packages.xz" { print $1 }' "$D/Release")"

# the blob cache: a second fetch reads the indexes from it
: >"$DEBREPO_LOG"
check "first fetch into the cache" fetch --keyring "$K" --cache "$T/cache" "$U/good" bookworm main amd64
check "second fetch from the cache" fetch --keyring "$K" --cache "$T/cache" "$U/good" bookworm main amd64
same "the index was downloaded once" "$(grep -c 'Packages.xz 200' "$DEBREPO_LOG")" 1
same "InRelease fetched each time (it says what is current)" "$(grep -c 'InRelease 200' "$DEBREPO_LOG")" 2
check "the cache holds the index by sha256" test -f "$T/cache/blobs/sha256/$(awk '$1 == "index" && $3 == "amd64" { print $5 }' "$T/good.out")"

# a cached index that was damaged on disk is fetched again, not used or kept
idx=$(awk '$1 == "index" && $3 == "amd64" { print $5 }' "$T/good.out")
chmod u+w "$T/cache/blobs/sha256/$idx" 2>/dev/null || true
printf 'x' >>"$T/cache/blobs/sha256/$idx"
: >"$DEBREPO_LOG"
check "a damaged cached index: fetched again" fetch --keyring "$K" --cache "$T/cache" "$U/good" bookworm main amd64
same "the damaged index was downloaded again" "$(grep -c 'Packages.xz 200' "$DEBREPO_LOG")" 1
same "the cache holds Release's bytes again" "$(sha256sum <"$T/cache/blobs/sha256/$idx" | cut -d' ' -f1)" "$idx"
# a cache whose index another SHA256 than Release's would name: nothing is put into it
expect_error "a wrong index is not kept in the cache" \
	"$U/badsha/dists/bookworm/main/binary-amd64/Packages.xz: main/binary-amd64/Packages.xz does not match $U/badsha/dists/bookworm/InRelease: sha256 " \
	fetch --keyring "$K" --cache "$T/cache2" "$U/badsha" bookworm main amd64
same "the cache holds no blob of it" "$(find "$T/cache2/blobs/sha256" -type f | wc -l)" 0

# transient answers (503) are retried as for registries, for InRelease and the indexes alike
mkdir -p "$T/flaky"
start_port_server flaky "$T/flaky" /usr/bin/python3 "$TOP_SRCDIR/tests/lib/deb_repo_server.py" --dir "$DEBREPO_DIR" \
	--port-file "$T/flaky/port" --log "$T/flaky/log" --fault /InRelease:503:1 --fault /Packages.xz:503:2 || not_ok "flaky server started"
U3=http://127.0.0.1:$SERVER_PORT
check "503 then 200: retried" fetch --retries 2 --keyring "$K" "$U3/good" bookworm main amd64
same "InRelease: 503, then 200" "$(grep InRelease "$T/flaky/log" | awk '{ print $3 }' | tr '\n' ' ')" "503 200 "
same "Packages.xz: 503 twice, then 200" "$(grep Packages.xz "$T/flaky/log" | awk '{ print $3 }' | tr '\n' ' ')" "503 503 200 "
mkdir -p "$T/flaky2"
start_port_server flaky2 "$T/flaky2" /usr/bin/python3 "$TOP_SRCDIR/tests/lib/deb_repo_server.py" --dir "$DEBREPO_DIR" \
	--port-file "$T/flaky2/port" --fault /InRelease:503:5 || not_ok "flaky server started"
expect_error "retries used up: the 503 named, not read as an unsigned source" \
	"GET http://127.0.0.1:$SERVER_PORT/good/dists/bookworm/InRelease: HTTP 503" \
	fetch --retries 1 --keyring "$K" "http://127.0.0.1:$SERVER_PORT/good" bookworm main amd64

# --- refusals ---
expect_error "unsigned source refused, naming it" "$U/unsigned/dists/bookworm/: unsigned (neither InRelease nor Release.gpg)" \
	fetch --keyring "$K" "$U/unsigned" bookworm main amd64
expect_error "wrongly signed source refused with gpgv's reason" \
	"$U/badsig/dists/bookworm/InRelease: no valid signature by $K: gpgv: Can't check signature: No public key [" \
	fetch --keyring "$K" "$U/badsig" bookworm main amd64
grep -q "NO_PUBKEY" "$T/.err" && ok "gpgv's status named: NO_PUBKEY" || not_ok "gpgv's status named: NO_PUBKEY"
expect_error "the good repository against the other keyring refused" "no valid signature by $DEBREPO_DIR/other-keyring.gpg" \
	fetch --keyring "$DEBREPO_DIR/other-keyring.gpg" "$U/good" bookworm main amd64
expect_error "an index whose SHA256 is not Release's refused, naming it" \
	"$U/badsha/dists/bookworm/main/binary-amd64/Packages.xz: main/binary-amd64/Packages.xz does not match $U/badsha/dists/bookworm/InRelease" \
	fetch --keyring "$K" "$U/badsha" bookworm main amd64
check "badsha's other architecture is fine (only the named index is refused)" fetch --keyring "$K" "$U/badsha" bookworm main arm64
expect_error "an expired Release refused" "$U/expired/dists/bookworm/InRelease: expired (Valid-Until 2000-01-02T00:00:00Z)" \
	fetch --keyring "$K" "$U/expired" bookworm main amd64
check "the same Release read before its Valid-Until" fetch --keyring "$K" --now 946720800 "$U/expired" bookworm main amd64
expect_error "a source without a keyring refused" "needs a keyring" fetch "$U/good" bookworm main amd64
expect_error "a missing keyring named" "keyring $T/nope.gpg: No such file" fetch --keyring "$T/nope.gpg" "$U/good" bookworm main amd64
expect_error "an architecture the Release lacks" "$U/good/dists/bookworm/InRelease: no architecture riscv64" \
	fetch --keyring "$K" "$U/good" bookworm main riscv64
expect_error "a component the Release lacks" "$U/good/dists/bookworm/InRelease: no component contrib" \
	fetch --keyring "$K" "$U/good" bookworm contrib amd64
expect_error "a suite that is not there" "$U/good/dists/trixie/Release: HTTP 404" \
	fetch --keyring "$K" "$U/good" trixie main amd64

# --- a mirror behind a login: ~/.netrc, as for registries and wheels ---
mkdir -p "$T/private" "$T/home"
start_port_server private "$T/private" /usr/bin/python3 "$TOP_SRCDIR/tests/lib/deb_repo_server.py" --dir "$DEBREPO_DIR" \
	--port-file "$T/private/port" --auth "deb:n3trc-pw" || not_ok "private server started"
U4=http://127.0.0.1:$SERVER_PORT
expect_error "no login: HTTP 401, named" "GET $U4/good/dists/bookworm/InRelease: HTTP 401 (credentials come from the URL or ~/.netrc)" \
	env HOME="$T/home" "$TOOL" --keyring "$K" "$U4/good" bookworm main amd64
! grep -q trusted "$T/.err" && ok "... a 401 is no signature failure: \"trusted\" is not offered" ||
	not_ok "... a 401 is no signature failure: \"trusted\" is not offered"
expect_error "trusted: a 401 is still an error" "GET $U4/good/dists/bookworm/InRelease: HTTP 401" \
	env HOME="$T/home" "$TOOL" --trusted "$U4/good" bookworm main amd64
printf 'machine 127.0.0.1\nlogin deb\npassword n3trc-pw\n' >"$T/home/.netrc"
chmod 600 "$T/home/.netrc"
check "~/.netrc logs in (InRelease and the index)" env HOME="$T/home" "$TOOL" --keyring "$K" "$U4/good" bookworm main amd64
check "a login in the URL too" "$TOOL" --keyring "$K" "${U4/http:\/\//http://deb:n3trc-pw@}/good" bookworm main amd64

# --- a user:password in the source URL never reaches a message ---
UC=${U/http:\/\//http://derrick:s3cret-pw@}
for m in "unsigned main amd64" "badsig main amd64" "badsha main amd64" "expired main amd64" "good main riscv64" "good contrib amd64"; do
	read -r mirror comp arch <<<"$m"
	fetch --keyring "$K" "$UC/$mirror" bookworm "$comp" "$arch" >/dev/null 2>"$T/cred.err" && not_ok "$mirror $comp $arch: refused" && continue
	if grep -q 's3cret' "$T/cred.err" || ! grep -q '\*\*\*@' "$T/cred.err"; then
		not_ok "$mirror $comp $arch: the URL is named without its password"
		diag <"$T/cred.err"
	else
		ok "$mirror $comp $arch: the URL is named without its password"
	fi
done
expect_error "a 404 names the URL without its password" "GET http://***@127.0.0.1:${U##*:}/good/dists/trixie/Release: HTTP 404" \
	fetch --keyring "$K" "$UC/good" trixie main amd64
! grep -q s3cret "$T/.err" && ok "... and without the password anywhere" || not_ok "... and without the password anywhere"

# --- trusted ---
fetch --trusted "$U/unsigned" bookworm main amd64 --dump "$T/dump" >"$T/trusted.out" 2>&1 || true
check "trusted: the unsigned source is read" fetch --trusted --dump "$T/dump" "$U/unsigned" bookworm main amd64
fetch --trusted "$U/unsigned" bookworm main amd64 >"$T/trusted.out" 2>&1
same "trusted: no signer, the plain Release" "$(awk '$1 == "signer" || $1 == "release" { print $2 }' "$T/trusted.out" | tr '\n' ' ')" \
	"$U/unsigned/dists/bookworm/Release none "
check "trusted: the same Packages bytes" cmp "$T/dump/main_amd64" "$D/main/binary-amd64/Packages"
check "trusted: a wrong signature does not matter" fetch --trusted --keyring "$K" "$U/badsig" bookworm main amd64
expect_error "trusted: a bad SHA256 still refused" "does not match" fetch --trusted "$U/badsha" bookworm main amd64

# --- Release with a detached Release.gpg, no InRelease; then the Release changed under it ---
mkdir -p "$T/detached"
cp -r "$DEBREPO_DIR/good" "$T/detached/good"
rm "$T/detached/good/pool" "$T/detached/good/dists/bookworm/InRelease"
# unsigned copies (read as trusted) whose Release lists no .xz, then neither .xz nor .gz
for m in gz plain; do
	cp -r "$DEBREPO_DIR/unsigned" "$T/detached/$m"
	rm "$T/detached/$m/pool"
done
sed -i '/Packages\.xz$/d' "$T/detached/gz/dists/bookworm/Release"
sed -i '/Packages\.xz$/d; /Packages\.gz$/d' "$T/detached/plain/dists/bookworm/Release"
/usr/bin/python3 "$TOP_SRCDIR/tests/lib/deb_repo_server.py" --dir "$T/detached" --port-file "$T/detached.port" </dev/null >/dev/null 2>&1 &
track_pid $!
for i in $(seq 200); do [[ -s $T/detached.port ]] && break; sleep 0.05; done
U2=http://127.0.0.1:$(cat "$T/detached.port")
fetch --keyring "$K" "$U2/good" bookworm main amd64 >"$T/detached.out" 2>&1
same "Release + Release.gpg verified" "$(awk '$1 == "release" { print $2 } $1 == "signer" { print $2 }' "$T/detached.out" | tr '\n' ' ')" \
	"$U2/good/dists/bookworm/Release $fpr "
for m in gz plain; do
	rm -f "$T/dump/main_amd64"
	fetch --trusted --dump "$T/dump" "$U2/$m" bookworm main amd64 >"$T/$m.out" 2>&1
	same "Release without .xz entries: $m index fetched" "$(awk '$1 == "index" { print $4 }' "$T/$m.out" | sed 's|.*/||')" \
		"Packages$([[ $m == gz ]] && echo .gz)"
	check "$m index: the same Packages bytes" cmp "$T/dump/main_amd64" "$D/main/binary-amd64/Packages"
done
# an index that is not what its name says (its Release entry made to match it): refused before use
cp "$T/detached/gz/dists/bookworm/main/binary-amd64/Packages" "$T/detached/gz/dists/bookworm/main/binary-amd64/Packages.gz"
h=$(sha256sum <"$T/detached/gz/dists/bookworm/main/binary-amd64/Packages" | cut -d' ' -f1)
n=$(stat -c %s "$T/detached/gz/dists/bookworm/main/binary-amd64/Packages")
awk -v h="$h" -v n="$n" '/^SHA256:/ { s = 1; print; next } /^[^ ]/ { s = 0 }
	s && $3 == "main/binary-amd64/Packages.gz" { print " " h " " n " " $3; next } { print }' \
	"$T/detached/gz/dists/bookworm/Release" >"$T/Release.new" && mv "$T/Release.new" "$T/detached/gz/dists/bookworm/Release"
expect_error "a .gz index that is not gzip refused" "$U2/gz/dists/bookworm/main/binary-amd64/Packages.gz: not compressed as its name says" \
	fetch --trusted "$U2/gz" bookworm main amd64
sed -i 's/^Suite: bookworm/Suite: bookwormx/' "$T/detached/good/dists/bookworm/Release"
expect_error "a Release changed under its Release.gpg refused" "$U2/good/dists/bookworm/Release.gpg: no valid signature by $K: gpgv: BAD signature" \
	fetch --keyring "$K" "$U2/good" bookworm main amd64
grep -q "BADSIG" "$T/.err" && ok "gpgv's status named: BADSIG" || not_ok "gpgv's status named: BADSIG"

echo "1..$_n"
