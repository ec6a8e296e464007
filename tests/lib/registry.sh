# tests/lib/registry.sh - real registries (and a faulty proxy) for e2e scripts.
#
# Source after tests/lib/e2e.sh (it needs $T and $TOP_SRCDIR):
#
#   . "$TOP_SRCDIR/tests/lib/e2e.sh"
#   . "$TOP_SRCDIR/tests/lib/registry.sh"
#   if m=$(registry_missing); then skip "registry tests" "missing: $m"; echo "1..$_n"; exit 0; fi
#   registry_start reg tls-basic || exit 1
#   registry_mark reg
#   skopeo copy --dest-cert-dir "$REG_CERT_DIR" --dest-creds "$REG_USER:$REG_PASS" ... "docker://$REG_ADDR/app:v1"
#   same "one manifest PUT" "$(registry_count reg PUT '^/v2/app/manifests/' 201)" 1
#
# Everything listens on 127.0.0.1 only, on ports the kernel picks, and is
# stopped when the script exits (through e2e.sh's at_exit; INT/TERM/HUP exit
# through it too, and e2e.sh's track_pid watchdog and the servers'
# parent-death signal stop them should the script be killed outright).  Call the functions in the
# script's own shell, not in $(...): they export variables.
#
# registry_start NAME MODE [OPTION...]
#   MODE  plain       HTTP, no auth
#         basic-http  HTTP with htpasswd Basic auth (credentials over plain HTTP)
#         tls-basic   HTTPS (a CA of the script's own) with htpasswd Basic auth (bcrypt)
#         tls         HTTPS, no auth
#         token       HTTPS, `auth: token`, the issuer (tests/lib/token_issuer.py) on HTTPS too
#         token-http  HTTP registry and HTTP issuer
#   OPTION (KEY=VALUE, one per argument or several in one space-separated argument)
#         user=U pass=P   the account (default: tester / a random printable password)
#         reader=1        token modes: an extra pull-only account NAME_READER_USER/_PASS
#         guest=1         token modes: an account that may log in and do nothing else,
#                         NAME_GUEST_USER/_PASS (pulls and pushes get 401 insufficient_scope)
#         job=PREFIX      token modes: an account NAME_JOB_USER/_PASS whose push tokens cover
#                         only repositories under PREFIX (GitLab's project tokens): a mount
#                         from elsewhere is refused (401), reading elsewhere is not
#         anon_pull=1     token modes: anonymous tokens may pull (a public registry)
#         expires_in=N    token modes: tokens say expires_in N and really stop working
#                         after N seconds (the registry's 60 s leeway is taken off)
#         upstream=OTHER  a pull-through cache of registry OTHER (it refuses pushes);
#                         OTHER must be plain, tls or token: distribution 2.8 only logs in
#                         to token-auth upstreams
#         readonly=1      storage in read-only maintenance mode (pushes fail)
#   Exports, with NAME upper-cased (non-alphanumerics become _), e.g. for "reg":
#     REG_ADDR          127.0.0.1:PORT  (what goes in image references)
#     REG_URL           http://127.0.0.1:PORT or https://...
#     REG_MODE          the MODE
#     REG_LOG           the registry's log: its stdout+stderr, access log included
#     REG_CERT_DIR      a directory holding only ca.crt (skopeo/derrick --cert-dir);
#                       exists (empty) for HTTP modes too
#     REG_CA            the CA certificate file (curl --cacert); empty for HTTP modes
#     REG_USER REG_PASS the account (printable; the random password has '@', '+', '%'
#                       and '.', to catch escaping bugs, but no ':' and no spaces)
#     REG_HTPASSWD      the htpasswd file (Basic modes), else empty
#     REG_DOCKER_CONFIG a directory with config.json holding the account for REG_ADDR
#                       (for DOCKER_CONFIG=...; REG_AUTH_FILE is that config.json)
#     REG_STORAGE       the storage root directory
#     REG_PID           the registry's PID
#     REG_TOKEN_LOG     token modes: the issuer's request log (method, path, service,
#                       scopes, user, status, granted access; never a password)
#     REG_REALM REG_SERVICE REG_ISSUER_PID   token modes
#     REG_READER_USER REG_READER_PASS        with reader=1 (and _GUEST_, _JOB_ likewise)
#     REG_ISSUER_URL    token modes: the issuer's base URL (for issuer_quirk)
#
# registry_mark NAME            remember the current end of NAME's log
# registry_count NAME METHOD PATH_REGEX [STATUS]
#     prints how many requests NAME's log has had since the last mark (or the
#     start) whose method is METHOD (a regex matched in full: PUT, 'PATCH|PUT',
#     '.*'), whose target (path and query) contains a match of PATH_REGEX
#     (Python regex, searched: '^/v2/app/blobs/uploads/') and, when given, whose
#     status is STATUS (matched in full: 201, '20[12]').  NAME may be a proxy.
# registry_lines NAME METHOD PATH_REGEX [STATUS]   the same requests, one per line:
#     "METHOD TARGET STATUS BYTES", and "#ID:ACTION" for a proxy's faulted ones
# proxy_bodies NAME METHOD PATH_REGEX [STATUS]   the request body sizes of the same
#     requests through a proxy, one per line (requests without a body are left out)
# registry_verify NAME REPO:REF [DIR]
#     pulls the image (every platform) back with skopeo, which checks every digest,
#     into the OCI layout DIR (default $T/.verify); its output in $T/.verify.log
# registry_stop NAME            stops a registry or proxy now
# registry_missing              prints the missing tools and succeeds, or fails when
#                               everything is there
#
# proxy_start NAME TARGET_NAME [QUIRK[=VALUE]...]
#     starts tests/lib/faulty_proxy.py in front of registry TARGET_NAME, with those
#     quirks switched on from the start (see faulty_proxy.py); it speaks
#     HTTPS when the target does (same CA).  Exports NAME_ADDR NAME_URL NAME_LOG
#     (the proxy's access log, same format; faulted requests end in
#     " fault=#ID:ACTION", status 000 when no answer was sent) NAME_PID
#     NAME_TARGET, and copies the target's CERT_DIR CA USER PASS; NAME_DOCKER_CONFIG
#     holds the account for NAME_ADDR.  A token registry's realm is not proxied:
#     clients still fetch tokens from the issuer directly.
# proxy_fault NAME SPEC...      programs a one-shot fault; SPEC (see faulty_proxy.py):
#     METHOD NTH ACTION [path=REGEX] [retry-after=N] [delay=SECONDS] [bytes=N] [code=CODE]
#       proxy_fault px PATCH 2 500                   500 on the 2nd PATCH from now
#       proxy_fault px POST next 429 retry-after=1   429 + Retry-After: 1 on the next POST
#       proxy_fault px PATCH 1 drop path=/blobs/uploads/   connection closed mid-body
#       proxy_fault px PUT 1 500 path=/blobs/        500 on the next blob PUT
#       proxy_fault px GET 1 truncate path=/blobs/sha256:  half a blob, then EOF
#       proxy_fault px PUT 1 lose path=/manifests/   done by the registry, answer lost
#     Faults count independently from the moment they are programmed.
# proxy_pending NAME / proxy_fired NAME   how many faults wait / have fired
# proxy_faults NAME             the proxy's fault table as JSON
# proxy_clear NAME              drops the pending faults
# proxy_quirk NAME QUIRK[=VALUE]...   switches quirks on (a hosted registry's ways):
#       proxy_quirk px patch-limit=4M        GHCR: 416 for a PATCH body over 4 MiB
#       proxy_quirk px no-mount              ECR: a mount starts an upload (202)
#       proxy_quirk px negotiate=joined      SPNEGO front: "Negotiate, Basic realm=..."
# proxy_unquirk NAME [QUIRK...]  switches them (no QUIRK: all) off
# proxy_applied NAME QUIRK      how often QUIRK has acted since the proxy started
# proxy_quirks NAME             the proxy's quirks as JSON {"set": {...}, "applied": {...}}
# issuer_quirk NAME QUIRK... / issuer_unquirk NAME [QUIRK...]   the same for the token
#     issuer of token registry NAME (minimal-answer: only "access_token" in its answer)
#
# Notes
# - Sourcing this exports no_proxy/NO_PROXY with 127.0.0.1 and localhost added
#   (libcurl would otherwise send local requests to an http_proxy), and the
#   registries run without the caller's REGISTRY_* variables (distribution reads
#   them as configuration: REGISTRY_AUTH_FILE would become auth.file).
# - In the token mode the issuer is HTTPS with the same CA: a client needs
#   CERT_DIR for the realm as well as for the registry.
# - skopeo (containers/image) keeps a blob-info cache (as root in
#   /var/lib/containers/cache) across runs: a second push of the same blobs to
#   the same host:port mounts them from the repository it saw them in
#   (POST ?mount=&from= -> 201) instead of uploading.  Use fresh blobs, or count
#   PUTs and mounts together, when counting what skopeo did.

_REG_LIBDIR=${TOP_SRCDIR:?}/tests/lib
_reg_pdeath=()
setpriv --pdeathsig TERM true 2>/dev/null && _reg_pdeath=(setpriv --pdeathsig TERM)
declare -gA _reg_mark=() _reg_pid_of=()
# Debian's python3 when there is one: the suite installs it, and a pyenv shim
# earlier in PATH costs 100+ ms a call
_reg_py=python3
[[ -x /usr/bin/python3 ]] && _reg_py=/usr/bin/python3
_reg_last_pid='' _reg_last_port='' _reg_body=''

# local requests must never go through a proxy from the environment
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"

_reg_say() { printf '# %s\n' "$@" >&2; }

registry_missing() {
	local m=() c
	for c in docker-registry openssl htpasswd python3 curl skopeo; do
		command -v "$c" >/dev/null 2>&1 || m+=("$c")
	done
	((${#m[@]})) || return 1
	echo "${m[*]}"
}

_reg_upper() {
	local u=${1^^}
	echo "${u//[^A-Z0-9]/_}"
}

# _reg_var NAME VAR: the value of NAME_VAR
_reg_var() {
	local v
	v="$(_reg_upper "$1")_$2"
	echo "${!v:-}"
}

_reg_export() { export "$(_reg_upper "$1")_$2=$3"; }

# every server is stopped by e2e.sh when the script ends (a server started in a subshell included)
_reg_track() { track_pid "$1"; }

# the CA, and one server certificate for 127.0.0.1 and localhost, made once
_reg_ca() {
	local d=$T/.ca
	[[ -f $d/server.crt ]] && return 0
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=derrick test CA" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
			-keyout ca.key -out ca.crt &&
		openssl req -newkey rsa:2048 -nodes -sha256 -subj /CN=127.0.0.1 -keyout server.key -out server.csr &&
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >ext &&
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -sha256 \
			-extfile ext -out server.crt
	) >"$T/.ca.log" 2>&1 || { _reg_say "making the test CA failed:"; sed 's/^/#   /' "$T/.ca.log" >&2; return 1; }
}

_reg_free_port() {
	"$_reg_py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_reg_password() {
	# printable, URL- and shell-unfriendly enough to catch escaping bugs
	echo "pw@$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')-Zq.+%"
}

# _reg_docker_config NAME ADDR USER PASS: a DOCKER_CONFIG dir for that account
_reg_docker_config() {
	local d=$T/$1/docker-config
	mkdir -p "$d"
	"$_reg_py" - "$d/config.json" "$2" "$3" "$4" <<'PY'
import base64, json, sys
path, addr, user, pw = sys.argv[1:]
a = base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
json.dump({"auths": {addr: {"auth": a}}}, open(path, "w"), indent=1)
PY
	_reg_export "$1" DOCKER_CONFIG "$d"
	_reg_export "$1" AUTH_FILE "$d/config.json"
}

# _reg_http_code URL [CA]: the status of GET URL, 000 when nothing answered
_reg_http_code() {
	local ca=()
	[[ -n ${2:-} ]] && ca=(--cacert "$2")
	curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 2 "${ca[@]}" "$1" 2>/dev/null
}

# _reg_python_service DIR NAME LOG SCRIPT ARGS...: start a python server that
# writes its port to DIR/NAME.port; sets _reg_last_port and _reg_last_pid
_reg_python_service() {
	local dir=$1 name=$2 log=$3; shift 3
	local pf=$dir/$name.port i pid
	rm -f "$pf"
	"$_reg_py" "$@" --port 0 --port-file "$pf" </dev/null >>"$log" 2>&1 &
	pid=$!
	_reg_track "$pid"
	for i in $(seq 200); do
		[[ -s $pf ]] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if [[ ! -s $pf ]]; then
		_reg_say "$name did not start; the end of $log:"
		tail -n 20 "$log" | sed 's/^/#   /' >&2
		return 1
	fi
	_reg_last_pid=$pid
	read -r _reg_last_port <"$pf"
}

registry_start() {
	local name=${1:?registry_start NAME MODE [OPTION...]} mode=${2:?registry_start NAME MODE [OPTION...]}
	shift 2
	local u d user=tester pass reader='' guest='' job='' anon_pull='' expires_in='' upstream='' readonly='' opt k v opts
	u=$(_reg_upper "$name")
	d=$T/$name
	pass=$(_reg_password)
	read -ra opts <<<"$*"
	for opt in "${opts[@]}"; do
		k=${opt%%=*} v=${opt#*=}
		case $k in
		user) user=$v ;;
		pass) pass=$v ;;
		reader) reader=$v ;;
		guest) guest=$v ;;
		job) job=$v ;;
		anon_pull) anon_pull=$v ;;
		expires_in) expires_in=$v ;;
		upstream) upstream=$v ;;
		readonly) readonly=$v ;;
		*) _reg_say "registry_start $name: unknown option '$opt'"; return 1 ;;
		esac
	done
	local tls='' auth=''
	case $mode in
	plain) ;;
	tls) tls=1 ;;
	basic-http) auth=basic ;;
	tls-basic) tls=1 auth=basic ;;
	token) tls=1 auth=token ;;
	token-http) auth=token ;;
	*) _reg_say "registry_start $name: unknown mode '$mode'"; return 1 ;;
	esac
	if [[ -e $d ]]; then
		_reg_say "registry_start $name: $d exists already"
		return 1
	fi
	mkdir -p "$d/storage" "$d/certs"
	local scheme=http ca=''
	if [[ -n $tls || $auth == token ]]; then
		_reg_ca || return 1
	fi
	if [[ -n $tls ]]; then
		scheme=https ca=$d/certs/ca.crt
		cp "$T/.ca/ca.crt" "$ca"
	fi

	export "${u}_MODE=$mode" "${u}_USER=$user" "${u}_PASS=$pass" "${u}_CERT_DIR=$d/certs" "${u}_CA=$ca" \
		"${u}_STORAGE=$d/storage" "${u}_LOG=$d/registry.log" "${u}_HTPASSWD=" "${u}_TOKEN_LOG=" \
		"${u}_REALM=" "${u}_SERVICE=" "${u}_ISSUER_PID=" "${u}_ISSUER_URL="

	# auth
	local auth_yaml=
	case $auth in
	basic)
		htpasswd -Bbn "$user" "$pass" >"$d/htpasswd" 2>"$d/htpasswd.err" ||
			{ _reg_say "htpasswd failed: $(cat "$d/htpasswd.err")"; return 1; }
		export "${u}_HTPASSWD=$d/htpasswd"
		auth_yaml="auth:
  htpasswd:
    realm: derrick-test
    path: $d/htpasswd"
		;;
	token)
		(cd "$d" && openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj /CN=derrick-test-signer \
			-keyout signer.key -out signer.crt) >"$d/signer.log" 2>&1 ||
			{ _reg_say "making the token signer failed:"; sed 's/^/#   /' "$d/signer.log" >&2; return 1; }
		local iargs=(--user "$user" --password "$pass" --key "$d/signer.key" --cert "$d/signer.crt"
			--issuer derrick-test-issuer --service "$name-registry" --log "$d/token.log")
		[[ -n $anon_pull ]] && iargs+=(--anonymous-pull)
		[[ -n $expires_in ]] && iargs+=(--expires-in "$expires_in" --hard-expiry)
		if [[ -n $reader ]]; then
			local rpass
			rpass=$(_reg_password)
			iargs+=(--account "reader:$rpass:pull")
			export "${u}_READER_USER=reader" "${u}_READER_PASS=$rpass"
		fi
		if [[ -n $guest ]]; then
			local gpass
			gpass=$(_reg_password)
			iargs+=(--account "guest:$gpass:-")
			export "${u}_GUEST_USER=guest" "${u}_GUEST_PASS=$gpass"
		fi
		if [[ -n $job ]]; then
			local jpass
			jpass=$(_reg_password)
			iargs+=(--account "job:$jpass:pull,push" --confine "job=$job")
			export "${u}_JOB_USER=job" "${u}_JOB_PASS=$jpass"
		fi
		local ischeme=http
		if [[ -n $tls ]]; then
			ischeme=https
			iargs+=(--tls-cert "$T/.ca/server.crt" --tls-key "$T/.ca/server.key")
		fi
		: >"$d/token.log"
		_reg_python_service "$d" issuer "$d/issuer.err" "$_REG_LIBDIR/token_issuer.py" "${iargs[@]}" || return 1
		local iport=$_reg_last_port
		export "${u}_ISSUER_PID=$_reg_last_pid" "${u}_TOKEN_LOG=$d/token.log" \
			"${u}_REALM=$ischeme://127.0.0.1:$iport/token" "${u}_SERVICE=$name-registry" \
			"${u}_ISSUER_URL=$ischeme://127.0.0.1:$iport"
		auth_yaml="auth:
  token:
    realm: $ischeme://127.0.0.1:$iport/token
    service: $name-registry
    issuer: derrick-test-issuer
    rootcertbundle: $d/signer.crt"
		;;
	esac

	# pull-through cache
	local proxy_yaml='' env_ca=()
	if [[ -n $upstream ]]; then
		local up_url
		up_url=$(_reg_var "$upstream" URL)
		[[ -n $up_url ]] || { _reg_say "registry_start $name: no registry '$upstream' to cache"; return 1; }
		proxy_yaml="proxy:
  remoteurl: $up_url"
		if [[ -n $(_reg_var "$upstream" HTPASSWD) ]]; then
			# distribution 2.8 keys upstream credentials by token realm: Basic upstreams get none
			_reg_say "registry_start $name: a pull-through cache cannot log in to a Basic-auth upstream ('$upstream'); use a plain, tls or token one"
			return 1
		fi
		if [[ -n $(_reg_var "$upstream" TOKEN_LOG) ]]; then
			proxy_yaml+="
  username: $(_reg_var "$upstream" USER)
  password: \"$(_reg_var "$upstream" PASS)\""
		fi
		[[ -n $(_reg_var "$upstream" CA) ]] && env_ca=(SSL_CERT_FILE="$(_reg_var "$upstream" CA)")
	fi
	local ro_yaml=
	[[ -n $readonly ]] && ro_yaml="  maintenance:
    readonly: {enabled: true}"

	local try port code='' i pid started=''
	for try in 1 2 3 4 5; do
		port=$(_reg_free_port) || { _reg_say "no free port"; return 1; }
		local tls_yaml=
		[[ -n $tls ]] && tls_yaml="  tls:
    certificate: $T/.ca/server.crt
    key: $T/.ca/server.key"
		cat >"$d/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $d/storage
  delete:
    enabled: true
  redirect:
    disable: true
$ro_yaml
http:
  addr: 127.0.0.1:$port
  secret: derrick-test-$RANDOM$RANDOM
$tls_yaml
$auth_yaml
$proxy_yaml
EOF
		: >"$d/registry.log"
		# REGISTRY_* variables would override the config file
		(
			while read -r v; do unset "$v"; done < <(compgen -e | grep '^REGISTRY_')
			# the kernel stops it when this script dies, even by SIGKILL
			exec env "${env_ca[@]}" "${_reg_pdeath[@]}" docker-registry serve "$d/config.yml"
		) </dev/null >>"$d/registry.log" 2>&1 &
		pid=$!
		_reg_track "$pid"
		for i in $(seq 200); do
			code=$(_reg_http_code "$scheme://127.0.0.1:$port/v2/" "${ca:-}")
			[[ $code == 200 || $code == 401 ]] && { started=1; break; }
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		[[ -n $started ]] && break
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		grep -q 'address already in use' "$d/registry.log" || break
	done
	if [[ -z $started ]]; then
		_reg_say "registry_start $name ($mode): no answer on $scheme://127.0.0.1:$port/v2/ (last status $code); the end of $d/registry.log:"
		tail -n 25 "$d/registry.log" | sed 's/^/#   /' >&2
		return 1
	fi
	_reg_pid_of[$u]=$pid
	export "${u}_ADDR=127.0.0.1:$port" "${u}_URL=$scheme://127.0.0.1:$port" "${u}_PID=$pid"
	_reg_docker_config "$name" "127.0.0.1:$port" "$user" "$pass"
	registry_mark "$name"
}

registry_stop() {
	local u pid i
	u=$(_reg_upper "$1")
	pid=${_reg_pid_of[$u]:-}
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "_reg_pid_of[$u]"
	return 0
}

registry_mark() {
	local u log
	u=$(_reg_upper "$1")
	log=$(_reg_var "$1" LOG)
	_reg_mark[$u]=$(stat -c %s "$log" 2>/dev/null || echo 0)
}

_reg_scan() {
	local what=$1 name=$2 u log
	u=$(_reg_upper "$name")
	log=$(_reg_var "$name" LOG)
	if [[ ! -f $log ]]; then
		_reg_say "registry_count: no log for '$name'"
		echo 0
		return 1
	fi
	"$_reg_py" - "$what" "$log" "${_reg_mark[$u]:-0}" "${3:-.*}" "${4:-}" "${5:-}" <<'PY'
import re, sys
what, log, off, method, path, status = sys.argv[1:]
line_re = re.compile(r'"([A-Z]+) (\S+) HTTP/[0-9.]+" ([0-9]{3}) (\d+|-)')
m_re = re.compile("(?:%s)\\Z" % (method if method not in ("", "*") else ".*"))
p_re = re.compile(path)
s_re = re.compile("(?:%s)\\Z" % status) if status else None
n = 0
with open(log, "rb") as f:
    f.seek(int(off))
    for raw in f:
        line = raw.decode("utf-8", "replace")
        m = line_re.search(line)
        if not m:
            continue
        if not m_re.match(m.group(1)) or not p_re.search(m.group(2)):
            continue
        if s_re is not None and not s_re.match(m.group(3)):
            continue
        n += 1
        if what == "bodies":
            body = re.search(r" in=([0-9]+)", line)
            if body:
                print(body.group(1))
        if what == "lines":
            fault = re.search(r" fault=(\S+)", line)
            print(m.group(1), m.group(2), m.group(3), m.group(4), *([fault.group(1)] if fault else []))
if what == "count":
    print(n)
PY
}

registry_count() { _reg_scan count "$@"; }
registry_lines() { _reg_scan lines "$@"; }
proxy_bodies() { _reg_scan bodies "$@"; }

# registry_verify NAME REPO:REF [DIR]
registry_verify() {
	local name=$1 ref=$2 dir=${3:-$T/.verify} flags=() u
	u=$(_reg_upper "$name")
	local addr url ca user pass
	addr=$(_reg_var "$name" ADDR) url=$(_reg_var "$name" URL) ca=$(_reg_var "$name" CA)
	user=$(_reg_var "$name" USER) pass=$(_reg_var "$name" PASS)
	if [[ $url == https:* ]]; then
		flags+=(--src-cert-dir "$(_reg_var "$name" CERT_DIR)")
	else
		flags+=(--src-tls-verify=false)
	fi
	flags+=(--src-creds "$user:$pass")
	rm -rf "$dir"
	_reg_policy
	skopeo --policy "$T/.policy.json" copy -q --all "${flags[@]}" "docker://$addr/$ref" "oci:$dir:verify" \
		>"$T/.verify.log" 2>&1
}

_reg_policy() {
	[[ -f $T/.policy.json ]] || echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$T/.policy.json"
}

proxy_start() {
	local name=${1:?proxy_start NAME TARGET_NAME [QUIRK...]} target=${2:?proxy_start NAME TARGET_NAME [QUIRK...]}
	shift 2
	local u d turl tca
	u=$(_reg_upper "$name")
	d=$T/$name
	turl=$(_reg_var "$target" URL) tca=$(_reg_var "$target" CA)
	[[ -n $turl ]] || { _reg_say "proxy_start $name: no registry '$target'"; return 1; }
	[[ -e $d ]] && { _reg_say "proxy_start $name: $d exists already"; return 1; }
	mkdir -p "$d"
	local args=(--target "$turl" --log "$d/proxy.log") scheme=http q
	for q in "$@"; do args+=(--quirk "$q"); done
	if [[ $turl == https:* ]]; then
		scheme=https
		args+=(--cacert "$tca" --tls-cert "$T/.ca/server.crt" --tls-key "$T/.ca/server.key")
	fi
	: >"$d/proxy.log"
	_reg_python_service "$d" proxy "$d/proxy.err" "$_REG_LIBDIR/faulty_proxy.py" "${args[@]}" || return 1
	local port=$_reg_last_port
	_reg_pid_of[$u]=$_reg_last_pid
	export "${u}_ADDR=127.0.0.1:$port" "${u}_URL=$scheme://127.0.0.1:$port" "${u}_LOG=$d/proxy.log" \
		"${u}_PID=$_reg_last_pid" "${u}_TARGET=$target" "${u}_MODE=proxy" \
		"${u}_CERT_DIR=$(_reg_var "$target" CERT_DIR)" "${u}_CA=$tca" \
		"${u}_USER=$(_reg_var "$target" USER)" "${u}_PASS=$(_reg_var "$target" PASS)"
	_reg_docker_config "$name" "127.0.0.1:$port" "$(_reg_var "$target" USER)" "$(_reg_var "$target" PASS)"
	local code
	code=$(_reg_http_code "$scheme://127.0.0.1:$port/__proxy__/faults" "$tca")
	if [[ $code != 200 ]]; then
		_reg_say "proxy_start $name: the control endpoint answers $code; the end of $d/proxy.err:"
		tail -n 20 "$d/proxy.err" | sed 's/^/#   /' >&2
		return 1
	fi
	registry_mark "$name"
}

# _reg_control NAME METHOD [DATA]: a call to NAME's control endpoint, at $_reg_ctl
# below NAME_URL (the proxy's faults unless set), or at NAME_ISSUER_URL for /__issuer__/
_reg_ctl=/__proxy__/faults
_reg_control() {
	local url ca args=()
	url=$(_reg_var "$1" URL) ca=$(_reg_var "$1" CA)
	[[ $_reg_ctl == /__issuer__/* ]] && url=$(_reg_var "$1" ISSUER_URL)
	[[ -n $url ]] || { _reg_say "no proxy or issuer '$1'"; return 1; }
	[[ -n $ca ]] && args+=(--cacert "$ca")
	[[ $# -ge 3 ]] && args+=(--data-binary "$3")
	curl -sS --noproxy '*' --max-time 5 -X "$2" "${args[@]}" -w '\n%{http_code}' "$url$_reg_ctl"
}

# _reg_control_ok NAME METHOD [DATA]: sets _reg_body; fails unless 200
_reg_control_ok() {
	local out code
	out=$(_reg_control "$@") || { _reg_body=$out; return 1; }
	code=${out##*$'\n'}
	_reg_body=${out%$'\n'*}
	_reg_body=${_reg_body%$'\n'}
	[[ $code == 200 ]]
}

proxy_fault() {
	local name=$1; shift
	_reg_control_ok "$name" POST "$*" || { _reg_say "proxy_fault $name: $_reg_body"; return 1; }
}

proxy_faults() {
	_reg_control_ok "$1" GET || { _reg_say "proxy_faults $1: $_reg_body"; return 1; }
	echo "$_reg_body"
}

proxy_pending() { proxy_faults "$1" | "$_reg_py" -c 'import json,sys; print(len(json.load(sys.stdin)["pending"]))'; }
proxy_fired() { proxy_faults "$1" | "$_reg_py" -c 'import json,sys; print(len(json.load(sys.stdin)["fired"]))'; }
proxy_clear() { _reg_control_ok "$1" DELETE || { _reg_say "proxy_clear $1: $_reg_body"; return 1; }; }

# _reg_switch PATH FUNCTION METHOD NAME [QUIRK...]: POST (set), DELETE (clear) or
# GET quirks at the control endpoint PATH of proxy or token registry NAME; sets _reg_body
_reg_switch() {
	local _reg_ctl=$1 fn=$2 method=$3 name=$4
	shift 4
	_reg_control_ok "$name" "$method" "$*" || { _reg_say "$fn $name: $_reg_body"; return 1; }
}

proxy_quirk() { _reg_switch /__proxy__/quirks proxy_quirk POST "$@"; }
proxy_unquirk() { _reg_switch /__proxy__/quirks proxy_unquirk DELETE "$@"; }
proxy_quirks() { _reg_switch /__proxy__/quirks proxy_quirks GET "$1" && echo "$_reg_body"; }
proxy_applied() {
	proxy_quirks "$1" | "$_reg_py" -c 'import json,sys; print(json.load(sys.stdin)["applied"].get(sys.argv[1], 0))' "$2"
}
issuer_quirk() { _reg_switch /__issuer__/quirks issuer_quirk POST "$@"; }
issuer_unquirk() { _reg_switch /__issuer__/quirks issuer_unquirk DELETE "$@"; }
