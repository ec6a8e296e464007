#!/usr/bin/env bash
# The wheels test data (tests/lib/test-wheels.sh) and the local package index
# (tests/lib/simple_index.py): what the wheels layer tests stand on must
# itself be right.  The wheels verify against their RECORDs, the locks
# against the files, Debian's python3-yaml gives a real aarch64 and x86_64
# extension with the same pure Python beside it, and the index serves the
# JSON and HTML forms as asked, with Basic auth when told.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/simple_index.sh"

data=$(bash "$TOP_SRCDIR/tests/lib/test-wheels.sh" 2>"$T/build.err"); rc=$?
if ((rc == 77)); then skip "wheels test data" "$(tail -n1 "$T/build.err")"; echo "1..$_n"; exit 0; fi
if ((rc != 0)); then not_ok "the wheels test data builds"; diag <"$T/build.err"; echo "1..$_n"; exit 0; fi
ok "the wheels test data builds (or is cached): $data"
py=/usr/bin/python3

# Every wheel: its RECORD lists every other file with the right sha256 and size.
check "every test wheel verifies against its RECORD" $py - "$data" <<'PY'
import base64, csv, glob, hashlib, io, sys, zipfile
bad = []
for w in sorted(glob.glob(sys.argv[1] + "/*/*.whl")):
    z = zipfile.ZipFile(w)
    rec = [n for n in z.namelist() if n.endswith(".dist-info/RECORD")]
    assert len(rec) == 1, w
    rows = {r[0]: r[1:] for r in csv.reader(io.StringIO(z.read(rec[0]).decode())) if r}
    for n in z.namelist():
        if n == rec[0]:
            continue
        d = z.read(n)
        want = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode()
        if rows.get(n) != [want, str(len(d))]:
            bad.append("%s: %s" % (w, n))
    if set(rows) != set(z.namelist()):
        bad.append("%s: RECORD lists %s" % (w, sorted(set(rows) ^ set(z.namelist()))))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY

check "pylock.toml and requirements.txt name every wheel with its size and sha256" $py - "$data" <<'PY'
import glob, hashlib, os, re, sys, tomllib
d = sys.argv[1]
def sha(p): return hashlib.sha256(open(p, "rb").read()).hexdigest()
for lock, reqs, sub in (("pylock.toml", "requirements.txt", "wheels"), ("pylock.clash.toml", "requirements.clash.txt", "clash")):
    files = sorted(glob.glob(os.path.join(d, sub, "*.whl")))
    lk = tomllib.load(open(os.path.join(d, lock), "rb"))
    assert lk["lock-version"] == "1.0"
    listed = {}
    for p in lk["packages"]:
        for w in p["wheels"]:
            f = os.path.join(d, w["path"])
            assert w["size"] == os.path.getsize(f) and w["hashes"]["sha256"] == sha(f), w
            assert os.path.basename(f) == w["name"]
            listed[f] = p["name"]
    assert sorted(listed) == files, (sorted(listed), files)
    text = open(os.path.join(d, reqs)).read()
    hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", text)
    assert sorted(hashes) == sorted(sha(f) for f in files), reqs
    assert all(re.match(r"^[a-z0-9-]+==[^ ]+( ; .+)? \\$", l) for l in text.splitlines() if l and l[0] not in "# "), reqs
lk = tomllib.load(open(os.path.join(d, "pylock.toml"), "rb"))
assert [p["marker"] for p in lk["packages"] if p["name"] == "dk-cext"] == ['platform_machine == "x86_64"']
assert [len(p["wheels"]) for p in lk["packages"] if p["name"] == "pyyaml"] == [2]
PY

# Debian's arm64 and amd64 python3-yaml: one real extension each, the pure Python the same.
check "the PyYAML wheels hold Debian's aarch64 and x86_64 _yaml and the same pure Python" $py - "$data" <<'PY'
import sys, zipfile
d = sys.argv[1] + "/wheels/PyYAML-6.0-cp311-cp311-manylinux_2_36_"
machines = {"aarch64": 183, "x86_64": 62}
zs = {a: zipfile.ZipFile(d + a + ".whl") for a in machines}
for a, z in zs.items():
    so = [n for n in z.namelist() if n.endswith(".so")]
    assert so == ["yaml/_yaml.cpython-311-%s-linux-gnu.so" % a], so
    elf = z.read(so[0])
    assert elf[:4] == b"\x7fELF" and int.from_bytes(elf[18:20], "little") == machines[a], a
    assert b"Tag: cp311-cp311-manylinux_2_36_%s" % a.encode() in z.read("PyYAML-6.0.dist-info/WHEEL")
pure = lambda z: {n: z.read(n) for n in z.namelist() if n.endswith(".py")}
assert pure(zs["aarch64"]) == pure(zs["x86_64"]) and len(pure(zs["x86_64"])) > 10
PY

check "the setuptools wheels have entry points, .data parts, a retagged extension, a shared namespace and a clash" $py - "$data" <<'PY'
import sys, zipfile
d = sys.argv[1]
names = lambda w: zipfile.ZipFile(d + w).namelist()
ep = zipfile.ZipFile(d + "/wheels/dk_entry_points-1.0.0-py3-none-any.whl").read("dk_entry_points-1.0.0.dist-info/entry_points.txt").decode()
assert "[console_scripts]" in ep and "dk-hello = dkentry.cli:main" in ep and "[gui_scripts]" in ep, ep
df = zipfile.ZipFile(d + "/wheels/dk_data_files-2.1-py3-none-any.whl")
assert df.read("dk_data_files-2.1.data/scripts/dk-data-script").startswith(b"#!python\n")
assert "dk_data_files-2.1.data/data/share/dk-data-files/readme.txt" in df.namelist()
assert "dk_data_files-2.1.data/headers/dkdata.h" in df.namelist()
cx = zipfile.ZipFile(d + "/wheels/dk_cext-0.3.0-cp311-cp311-manylinux_2_17_x86_64.whl")
assert "Tag: cp311-cp311-manylinux_2_17_x86_64\n" in cx.read("dk_cext-0.3.0.dist-info/WHEEL").decode()
assert any(n.endswith(".so") for n in cx.namelist())
assert any(n.endswith(".so") for n in names("/extra/dk_cext-0.3.0-cp311-cp311-linux_x86_64.whl"))
one, two = names("/wheels/dk_ns_one-1.0-py3-none-any.whl"), names("/wheels/dk_ns_two-1.0-py3-none-any.whl")
assert "dkns/one/__init__.py" in one and "dkns/two/__init__.py" in two and "dkns/__init__.py" not in one + two
assert "dkclash.py" in names("/clash/dk_clash_a-1.0-py3-none-any.whl") and "dkclash.py" in names("/clash/dk_clash_b-1.0-py3-none-any.whl")
PY

# The oracle installs the x86_64 set (Debian's pypa/installer); the extension and yaml import.
if $py -c 'import installer' 2>/dev/null; then
	inst=$T/inst
	for w in "$data"/wheels/*x86_64.whl "$data"/wheels/*-any.whl; do
		$py -m installer --no-compile-bytecode --destdir "$inst" --prefix /p "$w" >>"$T/inst.log" 2>&1 || echo "FAILED $w" >>"$T/inst.log"
	done
	sp=$(find "$inst" -type d -name dkcext -printf '%h\n' | head -n1)
	same "python3-installer installs the x86_64 test set; the extension, yaml and the namespace import" \
		"$(grep -c FAILED "$T/inst.log"; PYTHONPATH=$sp $py -c 'import dkcext, yaml, dkns.one, dkns.two; print(dkcext.add(2, 3), yaml.safe_load("a: 1"))' 2>&1)" \
		$'0\n5 {\'a\': 1}'
else
	skip "python3-installer installs the test set" "Debian's python3-installer is not installed"
fi

# examples/wheels-app locks Debian's own wheels by hand: its hashes must be theirs.
if ls /usr/share/python-wheels/pip-*.whl >/dev/null 2>&1; then
	check "examples/wheels-app: pylock.toml and requirements.txt match /usr/share/python-wheels" $py - "$TOP_SRCDIR/examples/wheels-app" <<'PY'
import hashlib, os, re, sys, tomllib
d = sys.argv[1]
lk = tomllib.load(open(os.path.join(d, "pylock.toml"), "rb"))
hashes = []
for p in lk["packages"]:
    (w,) = p["wheels"]
    data = open(w["path"], "rb").read()
    assert len(data) == w["size"] and hashlib.sha256(data).hexdigest() == w["hashes"]["sha256"], w["name"]
    assert w["name"].startswith("%s-%s-" % (p["name"], p["version"]))
    hashes.append(w["hashes"]["sha256"])
assert sorted(hashes) == sorted(re.findall(r"--hash=sha256:([0-9a-f]{64})", open(os.path.join(d, "requirements.txt")).read()))
PY
else
	skip "examples/wheels-app's locks match Debian's wheels" "no /usr/share/python-wheels (python3-pip-whl)"
fi

# The index, in both forms.
if ! command -v curl >/dev/null; then skip "local simple index" "no curl"; echo "1..$_n"; exit 0; fi
simple_index_start idx "$data/wheels" || { not_ok "the simple index starts"; echo "1..$_n"; exit 0; }
J='application/vnd.pypi.simple.v1+json' H='application/vnd.pypi.simple.v1+html'
get() { curl -s --noproxy '*' --max-time 10 -D "$T/h" "$@"; }
get -H "Accept: $J, $H;q=0.2, text/html;q=0.01" "$IDX_URL/pyyaml/" >"$T/yaml.json"
same "JSON form on pip's Accept header" "$(grep -i '^content-type' "$T/h" | tr -d '\r')" "Content-Type: $J"
same "the JSON page lists both PyYAML wheels with their sha256" \
	"$($py -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(sorted(f["filename"] + ":" + f["hashes"]["sha256"] for f in d["files"])))' "$T/yaml.json")" \
	"$(cd "$data/wheels" && for f in PyYAML-*; do printf '%s:%s ' "$f" "$(sha256sum <"$f" | cut -c1-64)"; done | sed 's/ $//')"
url=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["files"][0]["url"])' "$T/yaml.json")
same "a file URL, relative to the page, downloads the wheel" \
	"$(get "$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urljoin(sys.argv[1], sys.argv[2]))' "$IDX_URL/pyyaml/" "$url")" | sha256sum | cut -c1-64)" \
	"$(sha256sum <"$data/wheels/PyYAML-6.0-cp311-cp311-manylinux_2_36_aarch64.whl" | cut -c1-64)"
get -H "Accept: text/html" "$IDX_URL/pyyaml/" >"$T/yaml.html"
same "HTML form on text/html" "$(grep -i '^content-type' "$T/h" | tr -d '\r')" "Content-Type: $H"
same "the HTML page has an anchor with #sha256= per wheel" "$(grep -c 'href="../../files/PyYAML-6.0-[^"]*#sha256=[0-9a-f]\{64\}"' "$T/yaml.html")" 2
get -H "Accept: $J;q=0.1, $H" "$IDX_URL/dk-cext/" >/dev/null
same "q-values decide: HTML preferred over JSON" "$(grep -i '^content-type' "$T/h" | tr -d '\r')" "Content-Type: $H"
same "a name that is not normalised is redirected" "$(get -o /dev/null -w '%{http_code} %{redirect_url}' "$IDX_URL/PyYAML/")" \
	"301 $IDX_BASE/simple/pyyaml/"
same "an unknown project is 404" "$(get -o /dev/null -w '%{http_code}' "$IDX_URL/nope/")" 404
same "nothing acceptable is 406" "$(get -o /dev/null -w '%{http_code}' -H 'Accept: image/png' "$IDX_URL/pyyaml/")" 406
same "the root page lists the projects" \
	"$(get -H "Accept: $J" "$IDX_URL/" | $py -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["projects"]))')" \
	"dk-cext dk-data-files dk-entry-points dk-ns-one dk-ns-two pyyaml"
same "the log records each request with its form" "$(simple_index_count idx GET '^/simple/pyyaml/$' 200)" 2

simple_index_start forced "$data/wheels" form=html user=alice pass='s3cr@t:x' || not_ok "the forced-HTML index starts"
same "Basic auth: none is 401" "$(get -o /dev/null -w '%{http_code}' "$FORCED_URL/pyyaml/")" 401
same "Basic auth: a wrong password is 401" "$(get -o /dev/null -w '%{http_code}' -u alice:nope "$FORCED_URL/pyyaml/")" 401
same "Basic auth: the right one is 200, and --form html answers HTML to a JSON Accept" \
	"$(get -o /dev/null -w '%{http_code}' -u 'alice:s3cr@t:x' -H "Accept: $J" "$FORCED_URL/pyyaml/"; grep -i '^content-type' "$T/h" | tr -d '\r')" \
	"200Content-Type: $H"
same "the log names the user, never the password" "$(grep -c 's3cr' "$FORCED_LOG") $(grep -c ' alice$' "$FORCED_LOG")" "0 2"
simple_index_stop forced
echo "1..$_n"
