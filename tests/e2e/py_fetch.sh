#!/usr/bin/env bash
# Wheel downloads (fetch.h) and simple-index pages (pyindex.h) against a
# local server (tests/lib/wheel_server.py): verified before they enter the
# blob cache, nothing fetched when cached, errors naming URL and status,
# credentials from ~/.netrc or the URL and never printed, redirects,
# retries, file:// URLs, and PEP 691 / PEP 503 pages.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
TOOL=${UNIT_DIR:-$TOP_SRCDIR/tests/unit}/fetch_tool
if [[ ! -x $TOOL ]]; then skip "download tests" "fetch_tool not built (make check builds it)"; echo "1..$_n"; exit 0; fi

WHL=/usr/share/python-wheels/wheel-0.38.4-py3-none-any.whl
if [[ ! -f $WHL ]]; then skip "download tests" "missing: python3-wheel-whl"; echo "1..$_n"; exit 0; fi
NAME=${WHL##*/}
SHA=$(sha256sum "$WHL" | cut -d' ' -f1)
SIZE=$(stat -c %s "$WHL")
PW='s3cr3t-Pw%40x'      # percent-encoded in URLs: the password is s3cr3t-Pw@x
PW_PLAIN='s3cr3t-Pw@x'
export HOME=$T/home
mkdir -p "$HOME" "$T/srv/simple/wheel" "$T/srv/simple/wheel-html"
cp "$WHL" "$T/srv/"
cat >"$T/srv/simple/wheel/index.json" <<JSON
{"meta": {"api-version": "1.1"}, "name": "wheel", "files": [
 {"filename": "$NAME", "url": "../../$NAME", "hashes": {"sha256": "$SHA"}, "size": $SIZE}]}
JSON
cat >"$T/srv/simple/wheel-html/index.html" <<HTML
<!DOCTYPE html><html><body><h1>Links for wheel</h1>
<a href="/$NAME#sha256=$SHA" data-requires-python="&gt;=3.7">$NAME</a><br/>
</body></html>
HTML

# the server, stopped with the script (track_pid, and it dies with its parent)
python3 "$TOP_SRCDIR/tests/lib/wheel_server.py" --root "$T/srv" --port-file "$T/port" --log "$T/srv.log" \
	--user tester --password "$PW_PLAIN" </dev/null >"$T/srv.err" 2>&1 &
track_pid $!
for _ in $(seq 100); do [[ -s $T/port ]] && break; sleep 0.05; done
if [[ ! -s $T/port ]]; then not_ok "wheel_server started"; diag <"$T/srv.err"; echo "1..$_n"; exit 1; fi
U=http://127.0.0.1:$(cat "$T/port")
: >"$T/srv.log"
blob=$T/cache/blobs/sha256/$SHA
# requests the server saw for PATH (a fixed string at the start of the path), one "STATUS USER" per line
seen() { awk -v p="$1" 'index($2, p) == 1 { print $3, $4 }' "$T/srv.log"; }

expect_error "plain HTTP needs --tls-verify=false" "$U/$NAME: plain HTTP is refused (use https, or --tls-verify=false" \
	"$TOOL" blob "$T/cache" "$U/$NAME" "$SHA" "$SIZE"
check "a download (size and sha256 given)" "$TOOL" --insecure blob "$T/cache" "$U/$NAME" "$SHA" "$SIZE"
same "  ... lands in the cache under its sha256" "$(sha256sum <"$blob" | cut -d' ' -f1)" "$SHA"
same "  ... and no temporary file is left" "$(find "$T/cache" -name '.tmp-*' | wc -l)" "0"
: >"$T/srv.log"
check "cached: a second download succeeds" "$TOOL" --insecure blob "$T/cache" "$U/$NAME" "$SHA" "$SIZE"
same "  ... without a request" "$(wc -l <"$T/srv.log")" "0"

expect_error "a 404 names the URL and the status" "GET $U/missing.whl: HTTP 404" \
	"$TOOL" --insecure blob "$T/c2" "$U/missing.whl" "$SHA" -1
expect_error "a file whose sha256 is not the lock's" "$U/$NAME: sha256 $SHA, the lock says ${SHA//?/0}: not the locked file" \
	"$TOOL" --insecure blob "$T/c3" "$U/$NAME" "${SHA//?/0}" -1
same "  ... leaves nothing in the cache" "$(find "$T/c3" -type f | wc -l)" "0"
expect_error "a file larger than the lock says is cut short" "$U/$NAME: more than the 1000 bytes expected" \
	"$TOOL" --insecure blob "$T/c4" "$U/$NAME" "$SHA" 1000
same "  ... leaves nothing in the cache" "$(find "$T/c4" -type f | wc -l)" "0"
expect_error "a file smaller than the lock says" "$U/$NAME: $SIZE bytes, the lock says $((SIZE + 1)):" \
	"$TOOL" --insecure blob "$T/c5" "$U/$NAME" "$SHA" $((SIZE + 1))
same "  ... leaves nothing in the cache" "$(find "$T/c5" -type f | wc -l)" "0"

: >"$T/srv.log"
check "a redirect is followed" "$TOOL" --insecure blob "$T/c6" "$U/redirect/$NAME" "$SHA" "$SIZE"
same "  ... 302 then 200" "$(seen /redirect/; seen "/$NAME")" $'302 -\n200 -'
check "a 503 is retried" "$TOOL" --insecure blob "$T/c7" "$U/flaky/$NAME" "$SHA" "$SIZE"
same "  ... 503 then 200" "$(seen /flaky/)" $'503 -\n200 -'
check "a file:// URL" "$TOOL" blob "$T/c8" "file://$WHL" "$SHA" "$SIZE"
expect_error "a missing file:// file" "/no/such.whl" "$TOOL" blob "$T/c8b" "file:///no/such.whl" "$SHA" -1

# --- credentials ------------------------------------------------------------
expect_error "no credentials: HTTP 401, named" "GET $U/private/$NAME: HTTP 401 (credentials come from the URL or ~/.netrc)" \
	"$TOOL" --insecure blob "$T/c9" "$U/private/$NAME" "$SHA" "$SIZE"
printf 'machine 127.0.0.1\nlogin tester\npassword %s\n' "$PW_PLAIN" >"$HOME/.netrc"
chmod 600 "$HOME/.netrc"
: >"$T/srv.log"
check "~/.netrc logs in" "$TOOL" --insecure blob "$T/c9" "$U/private/$NAME" "$SHA" "$SIZE"
same "  ... as its user" "$(seen /private/ | tail -1)" "200 tester"
rm "$HOME/.netrc"
UI=http://tester:$PW@127.0.0.1:${U##*:}
check "user:password in the URL logs in" "$TOOL" --insecure blob "$T/c10" "$UI/private/$NAME" "$SHA" "$SIZE"
"$TOOL" --insecure blob "$T/c11" "http://tester:wrong$PW@127.0.0.1:${U##*:}/private/$NAME" "$SHA" "$SIZE" >"$T/o1" 2>&1
"$TOOL" --insecure blob "$T/c11" "http://tester:$PW@127.0.0.1:1/private/$NAME" "$SHA" "$SIZE" >"$T/o2" 2>&1
"$TOOL" --insecure blob "$T/c11" "$UI/private/$NAME" "${SHA//?/1}" "$SIZE" >"$T/o3" 2>&1
"$TOOL" --insecure blob "$T/c11" "$UI/private/missing.whl" "$SHA" "$SIZE" >"$T/o4" 2>&1
"$TOOL" --insecure page "$UI/private/simple/nothing/" >"$T/o5" 2>&1
"$TOOL" blob "$T/c11" "$UI/private/$NAME" "$SHA" "$SIZE" >"$T/o6" 2>&1
check "  ... errors name the URL without it (wrong password)" grep -qF "GET http://***@127.0.0.1:${U##*:}/private/$NAME: HTTP 401" "$T/o1"
check "  ... (connection refused)" grep -qF "GET http://***@127.0.0.1:1/private/$NAME:" "$T/o2"
check "  ... (wrong sha256)" grep -qF "http://***@127.0.0.1:${U##*:}/private/$NAME: sha256" "$T/o3"
check "  ... (404)" grep -qF "HTTP 404" "$T/o4"
check "  ... (a page)" grep -qF "HTTP 404" "$T/o5"
check "  ... (plain HTTP refused)" grep -qF "plain HTTP is refused" "$T/o6"
check "  ... and no output anywhere holds the password" \
	sh -c '! grep -F -e "$1" -e "$2" "$3"/o? "$3"/srv.log' _ "$PW" "$PW_PLAIN" "$T"

# --- index pages ------------------------------------------------------------
"$TOOL" --insecure page "$U/simple/wheel/" >"$T/json.out" 2>&1
same "a PEP 691 JSON page, its relative URL resolved" "$(cat "$T/json.out")" "$NAME $U/$NAME $SHA"
"$TOOL" --insecure page "$U/redirect/simple/wheel-html/" >"$T/html.out" 2>&1
same "a PEP 503 HTML page, after a redirect" "$(cat "$T/html.out")" "$NAME $U/$NAME $SHA"
"$TOOL" --insecure page "$UI/private/simple/wheel/" >"$T/priv.out" 2>&1
same "a page behind a login keeps it for its files" "$(cat "$T/priv.out")" "$NAME $UI/private/$NAME $SHA"
expect_error "a page's 404" "GET $U/simple/none/: HTTP 404" "$TOOL" --insecure page "$U/simple/none/"
expect_error "a page that is not an index page" "$U/$NAME: Content-Type \"application/octet-stream\": expected a simple index page" \
	"$TOOL" --insecure page "$U/$NAME"
echo "1..$_n"
