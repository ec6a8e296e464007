#!/usr/bin/env bash
# Wheels installed as layer entries (issue #11, section 2), against an
# oracle: Debian's python3-installer (pypa/installer 0.6.0) installs the
# same wheels, and the layer derrick writes (through the tar writer, by the
# driver tests/lib/wheel_install) must hold the same files with the same
# bytes, RECORD compared as a set.  Real wheels: Debian's pip, setuptools
# and wheel, and wheels built here offline from testdata/wheels/ (console
# and GUI entry points, .data/scripts with "#!python", .data/data and
# .data/headers, a C extension).  The documented differences:
#   - derrick writes INSTALLER ("derrick"); `python3 -m installer` writes none;
#   - `-m installer --prefix /usr` on Debian puts headers in /usr/include, the
#     rest in /usr/local (its posix_local scheme): the headers subtree is
#     compared at derrick's place, PREFIX/include/pythonX.Y/DIST, and their
#     RECORD rows relative to it; installer's own install() with derrick's
#     layout (tests/lib/wheels.py oracle) needs no such step;
#   - installer's RECORD is unsorted (compared as a set); no .pyc either way
#     (--no-compile-bytecode).
# Then every refusal: wrong hash or size, RECORD mismatches, unsafe names,
# duplicates, symlinks, encryption, central directory against local headers,
# .dist-info name and version, Wheel-Version 2.0, bad entry points, two
# wheels writing one file; and zip times and order that change nothing.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

PY=/usr/bin/python3
TOOL=$(dirname "$DERRICK")/tests/lib/wheel_install
WHEELS=$TOP_SRCDIR/tests/lib/wheels.py
if [[ ! -x $TOOL ]] || ! $PY -c 'import installer, setuptools, wheel' 2>/dev/null; then
	skip "wheels" "needs tests/lib/wheel_install (make check) and Debian's python3-installer, setuptools, wheel"
	echo "1..$_n"
	exit 0
fi
umask 022
$PY "$WHEELS" build "$T/good" >"$T/built" 2>"$T/build.err" || { not_ok "build the test wheels"; diag <"$T/build.err"; }
DEMO=$(grep demo_pkg "$T/built")
EXT=$(grep ext_pkg "$T/built")
REAL=(/usr/share/python-wheels/pip-*.whl /usr/share/python-wheels/setuptools-*.whl /usr/share/python-wheels/wheel-*.whl)
SITE=/usr/local/lib/python3.11/dist-packages
# the interpreter `-m installer` writes into wrappers: its own sys.executable
EXE=$($PY -c 'import sys; print(sys.executable)')

# install OUTDIR TOOL_ARGS... WHEELS...: derrick's layer for the wheels, unpacked by GNU tar
install() {
	local out=$1; shift
	mkdir -p "$out" && "$TOOL" -o "$out.tar" "$@" >"$out.info" && tar -xf "$out.tar" -C "$out"
}

# compare A B: the two trees hold the same files, bytes and execute bits, RECORD as a set of rows
compare() {
	$PY - "$1" "$2" <<'PY'
import csv, os, sys
a, b = sys.argv[1], sys.argv[2]
def tree(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = p
    return out
ta, tb = tree(a), tree(b)
bad = []
for p in sorted(set(ta) ^ set(tb)):
    bad.append("only in %s: %s" % ("derrick" if p in ta else "installer", p))
for p in sorted(set(ta) & set(tb)):
    da, db = open(ta[p], "rb").read(), open(tb[p], "rb").read()
    if p.endswith(".dist-info/RECORD"):
        ra = set(map(tuple, csv.reader(da.decode().splitlines())))
        rb = set(map(tuple, csv.reader(db.decode().splitlines())))
        if ra != rb:
            bad.append("RECORD %s: derrick only %s; installer only %s" % (p, sorted(ra - rb)[:3], sorted(rb - ra)[:3]))
        if da.decode().splitlines() != sorted(da.decode().splitlines()) or b"\r" in da:
            bad.append("RECORD %s: not sorted bytewise with LF ends" % p)
    elif da != db:
        bad.append("content differs: " + p)
    if os.access(ta[p], os.X_OK) != os.access(tb[p], os.X_OK):
        bad.append("execute bit differs: " + p)
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}

# installer's CLI with its Debian scheme, moved to derrick's layout (the header note above)
oracle_cli() {
	local out=$1 w=$2 rec
	$PY -m installer --no-compile-bytecode --destdir "$out" --prefix /usr "$w" || return 1
	if [[ -d $out/usr/include ]]; then
		mkdir -p "$out/usr/local/include" && mv "$out/usr/include"/* "$out/usr/local/include/" && rmdir "$out/usr/include"
		for rec in "$out$SITE"/*.dist-info/RECORD; do
			sed -i 's#^\.\./\.\./\.\./\.\./include/#../../../include/#' "$rec"
		done
	fi
	# derrick writes INSTALLER; -m installer does not: add it, as it would with that metadata
	for rec in "$out$SITE"/*.dist-info/RECORD; do
		printf 'derrick\n' >"${rec%/RECORD}/INSTALLER"
		printf '%s/INSTALLER,sha256=oT7bimwV8QGzI9GpScsBh7byC9dRShEY5pbDILzXyOY,8\n' "$(basename "${rec%/RECORD}")" >>"$rec"
	done
}

# 1. the oracle, wheel by wheel: Debian's real wheels, the built ones, one with all kinds of zip modes
$PY "$WHEELS" craft "$DEMO" "$T/bad" 2>"$T/craft.err" || { not_ok "craft the bad wheels"; diag <"$T/craft.err"; }
b=$(basename "$DEMO")
mkdir -p "$T/d" "$T/o" "$T/modes"
cp "$T/bad/modes/$b" "$T/modes/demo_pkg-1.2.0-py3-none-any.whl"
for w in "${REAL[@]}" "$DEMO" "$EXT" "$T/modes/$b"; do
	n=$(basename "$w" .whl)$([[ $w == "$T/modes/"* ]] && echo -modes)
	if ! install "$T/d/$n" -p /usr/local -s "$SITE" -i "$EXE" -y 3.11 "$w" 2>"$T/d/$n.err"; then
		not_ok "derrick installs $n"; diag <"$T/d/$n.err"; continue
	fi
	if ! oracle_cli "$T/o/$n" "$w" >"$T/o.err" 2>&1; then
		not_ok "installer installs $n"; diag <"$T/o.err"; continue
	fi
	check "$n: the same files and bytes as python3 -m installer" compare "$T/d/$n" "$T/o/$n"
done
same "wrappers name the interpreter given" "$(head -1 "$T/d/$(basename "$DEMO" .whl)/usr/local/bin/demo-cli")" "#!$EXE"

# 2. installer's install() with derrick's layout: a plain site-packages, a long
#    interpreter path with a space (the /bin/sh exec trick) and a short one
long="/opt/py thon/$(printf 'x%.0s' {1..120})/bin/python3.11"
for interp in /usr/local/bin/python3.11 "$long"; do
	tag=$([[ $interp == "$long" ]] && echo long || echo short)
	for w in "$DEMO" "$EXT" "${REAL[2]}"; do
		n=$(basename "$w" .whl)
		if install "$T/da-$tag/$n" -p /usr/local -s /usr/local/lib/python3.11/site-packages -i "$interp" -y 3.11 "$w" 2>"$T/e" &&
			$PY "$WHEELS" oracle "$w" "$T/oa-$tag/$n" /usr/local /usr/local/lib/python3.11/site-packages "$interp" 3.11 2>>"$T/e"; then
			check "$n, $tag interpreter: the same as installer's install() with this layout" compare "$T/da-$tag/$n" "$T/oa-$tag/$n"
		else
			not_ok "$n, $tag interpreter: install"; diag <"$T/e"
		fi
	done
done
# installer's two differences by design, and nothing else
w=$T/bad/documented/$b
if install "$T/doc-d" -p /usr/local -s /usr/local/lib/python3.11/site-packages -i /usr/bin/python3 -y 3.11 "$w" 2>"$T/e" &&
	$PY "$WHEELS" oracle "$w" "$T/doc-o" /usr/local /usr/local/lib/python3.11/site-packages /usr/bin/python3 3.11 2>>"$T/e"; then
	rec=$T/doc-o/usr/local/lib/python3.11/site-packages/demo_pkg-1.2.0.dist-info/RECORD
	same "installer: a .data/purelib file of a platlib wheel is ./ in RECORD" "$(grep -c '^\./demo_pkg/extra.py,' "$rec")" 1
	same "installer: a script without an execute bit stays 0644" "$(stat -c %a "$T/doc-o/usr/local/bin/plain")" 644
	sed -i 's#^\./##' "$rec"
	chmod 755 "$T/doc-o/usr/local/bin/plain"
	check "a platlib wheel with .data/purelib and a 0644 script: otherwise the same as installer" compare "$T/doc-d" "$T/doc-o"
else
	not_ok "the documented differences: install"; diag <"$T/e"
fi
d=$T/da-short/$(basename "$DEMO" .whl)
same "a #!python script gets the interpreter" "$(head -1 "$d/usr/local/bin/demo-script")" "#!/usr/local/bin/python3.11"
same "a shell script is left as it is" "$(head -1 "$d/usr/local/bin/demo-shell")" "#!/bin/sh"
same "the layer's modes: scripts 0755, an executable member 0755, the rest 0644" \
	"$(tar -tvf "$d.tar" | awk '{print $1, $6}' | grep -E 'bin/demo-(cli|gui|script|shell)$|sub/tool.py$|sub/__init__.py$|INSTALLER$|RECORD$|demo.h$' | sort -k2 | tr '\n' ' ')" \
	"-rwxr-xr-x usr/local/bin/demo-cli -rwxr-xr-x usr/local/bin/demo-gui -rwxr-xr-x usr/local/bin/demo-script -rwxr-xr-x usr/local/bin/demo-shell -rw-r--r-- usr/local/include/python3.11/demo_pkg/demo.h -rw-r--r-- usr/local/lib/python3.11/site-packages/demo_pkg-1.2.0.dist-info/INSTALLER -rw-r--r-- usr/local/lib/python3.11/site-packages/demo_pkg-1.2.0.dist-info/RECORD -rw-r--r-- usr/local/lib/python3.11/site-packages/demo_pkg/sub/__init__.py -rw-r--r-- usr/local/lib/python3.11/site-packages/demo_pkg/sub/tool.py "
m=$T/d/demo_pkg-1.2.0-py3-none-any-modes
same "zip modes: an execute bit gives 0755, none or a DOS member 0644" \
	"$(tar -tvf "$m.tar" | awk '{print $1, $6}' | grep -E '/(run|run2|zero|dos).py$' | sort -k2 | tr '\n' ' ')" \
	"-rw-r--r-- usr/local/lib/python3.11/dist-packages/demo_pkg/dos.py -rwxr-xr-x usr/local/lib/python3.11/dist-packages/demo_pkg/run.py -rwxr-xr-x usr/local/lib/python3.11/dist-packages/demo_pkg/run2.py -rw-r--r-- usr/local/lib/python3.11/dist-packages/demo_pkg/zero.py "
same "no .pyc, no direct_url.json, no REQUESTED" "$(tar -tf "$d.tar" | grep -cE '\.pyc$|direct_url.json$|REQUESTED$')" 0
same "RECORD names scripts relative to site-packages" \
	"$(grep -E '^\.\./' "$d/usr/local/lib/python3.11/site-packages/demo_pkg-1.2.0.dist-info/RECORD" | cut -d, -f1 | tr '\n' ' ')" \
	"../../../bin/demo-cli ../../../bin/demo-gui ../../../bin/demo-script ../../../bin/demo-shell ../../../bin/demo.tool ../../../include/python3.11/demo_pkg/demo.h ../../../share/demo/demo.txt "
same "the info: name, version, Requires-Python, Root-Is-Purelib" "$(cat "$d.info")" "demo-pkg 1.2.0 >=3.7 purelib"

# 3. the installed packages run: a console script, an entry point with a dotted attribute, the C extension
both=$T/both
if install "$both" -p /usr/local -s "$SITE" -i "$EXE" -y 3.11 "$DEMO" "$EXT" 2>"$T/e"; then
	ok "two wheels sharing a namespace package directory install together"
	export PYTHONPATH=$both$SITE
	same "a console script runs" "$("$both/usr/local/bin/demo-cli" 2>&1)" "demo-cli ran"
	same "an entry point with a dotted attribute runs" "$("$both/usr/local/bin/demo.tool" 2>&1)" "demo.tool ran"
	same "the C extension imports" "$($PY -c 'import ext_pkg, nspkg.alpha, nspkg.beta; print(ext_pkg.answer(), nspkg.alpha.NAME, nspkg.beta.NAME)' 2>&1)" "42 alpha beta"
	unset PYTHONPATH
else
	not_ok "two wheels sharing a namespace package directory install together"; diag <"$T/e"
fi

# 4. refusals
sha=$(sha256sum "$DEMO" | cut -c1-64)
size=$(stat -c %s "$DEMO")
refuse() { expect_error "refused: $1" "$2" "$TOOL" -o "$T/x.tar" "${@:3}"; }
refuse "wrong sha256" "sha256 $sha, but 0000" "$DEMO,$(printf '0%.0s' {1..64}),$size"
refuse "wrong size" "bytes, but 12 expected" "$DEMO,$sha,12"
check "the right sha256 and size pass" "$TOOL" -o "$T/x.tar" "$DEMO,$sha,$size"
check "the file name can come apart from the path (a blob cache)" sh -c "cp '$DEMO' '$T/blob' && '$TOOL' -o '$T/x.tar' '$T/blob,$sha,$size,$b'"
refuse "a changed file" "the row of \"demo_pkg/__init__.py\" has a size that does not match" "$T/bad/record-changed/$b"
refuse "a file RECORD lacks" "\"demo_pkg/__init__.py\" is in the wheel but not in RECORD" "$T/bad/record-missing-row/$b"
refuse "a RECORD row without a file" "RECORD lists \"ghost.py\", which the wheel does not hold" "$T/bad/record-extra-row/$b"
refuse "an md5 hash in RECORD" "md5 or sha1 hash, which is too weak" "$T/bad/record-md5/$b"
refuse "RECORD's own row with a hash" "RECORD's own row must have no hash" "$T/bad/record-own-hash/$b"
refuse "a ../ member" "member \"../evil.py\" has a \".\" or \"..\" component" "$T/bad/unsafe-dotdot/$b"
refuse "an absolute member" "member \"/tmp/evil.py\" is absolute" "$T/bad/unsafe-abs/$b"
refuse "a backslash member (libarchive reads it as a slash; RECORD then disagrees)" "RECORD lists \"demo\\evil.py\"" "$T/bad/unsafe-backslash/$b"
refuse "an unknown .data key" "\"demo_pkg-1.2.0.data/bogus/x\" is not in a purelib" "$T/bad/unsafe-data-key/$b"
refuse "a duplicate member" "member \"demo_pkg/__init__.py\" appears twice" "$T/bad/duplicate/$b"
refuse "a symlink member" "member \"demo_link\" is a symlink" "$T/bad/symlink/$b"
refuse "an encrypted member" "member \"encrypted.py\" is encrypted" "$T/bad/encrypted/$b"
refuse "central directory and local header CRC differ" "Inconsistent CRC32" "$T/bad/cd-crc/$b"
refuse "a local header the central directory lacks" "\"hidden.py\" has a local header but is not in the central directory" "$T/bad/cd-hidden/$b"
refuse "a name only the central directory has" "RECORD lists \"demo_pkg/__init__.py\", which the wheel does not hold" "$T/bad/cd-name/$b"
refuse "a .dist-info of another name" "\"other_pkg-1.2.0.dist-info\" names another distribution" "$T/bad/distinfo-name/$b"
refuse "a .dist-info of another version" "\"demo_pkg-9.9.dist-info\" has another version than the file name (1.2.0)" "$T/bad/distinfo-version/$b"
refuse "Wheel-Version 2.0" "Wheel-Version 2.0; only 1.x is supported" "$T/bad/wheel-version-2/$b"
refuse "an entry point name that is a path" "entry point name \"../evil\" is not a plain file name" "$T/bad/entry-point-name/$b"
refuse "an entry point value that is code" "entry point \"evil\" is not \"module:attr\"" "$T/bad/entry-point-value/$b"
refuse "two wheels writing one file" "wheels $b and clash-1.0-py3-none-any.whl both install /usr/local/lib/python3.11/site-packages/demo_pkg/__init__.py" \
	"$DEMO" "$T/bad/clash/clash-1.0-py3-none-any.whl"
"$TOOL" -o "$T/x.tar" "$T/bad/wheel-version-1.9/$b" >/dev/null 2>"$T/e"
same "Wheel-Version 1.9 installs with a warning" "$(cat "$T/e")" "derrick: warning: wheel $b: Wheel-Version 1.9 is newer than 1.0, which derrick knows"

# 5. zip times and member order never matter
"$TOOL" -o "$T/r1.tar" "$DEMO" >/dev/null 2>&1
"$TOOL" -o "$T/r2.tar" "$T/bad/reordered/$b" >/dev/null 2>&1
differ "the reordered wheel is another file" "$(sha256sum <"$DEMO")" "$(sha256sum <"$T/bad/reordered/$b")"
same "other zip times and member order, the same layer" "$(sha256sum <"$T/r1.tar")" "$(sha256sum <"$T/r2.tar")"

echo "1..$_n"
