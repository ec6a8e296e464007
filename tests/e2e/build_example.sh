#!/usr/bin/env bash
# End to end: build the example app into an OCI layout and check it with
# independent tools (skopeo, umoci, oci-image-tool, python's tarfile),
# reproducibility under perturbation, layer caching behaviour, tags.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

sp=$(site_packages) || true
if [[ -z $sp || ! -d $sp ]]; then
	skip "example build" "no site-packages: $(cat "$T/.sp.err")"
	exit 0
fi

# --- A: a plain copy, built from its own directory -------------------------
copy_example "$T/a"
(cd "$T/a" && umask 022 && "$DERRICK" build --version 0.1.14 --json -o oci:"$T/out-a":latest >"$T/a.json")
check "build the example" test -s "$T/a.json"
digest_a=$(json_get "$T/a.json" 'd["manifest_digest"]')

# --- B: the same sources, perturbed every way we can ----------------------
# created in reverse order under umask 077, every mtime different, another
# TZ and locale, built through -f from another working directory.
mkdir -p "$T/b"
python3 - "$EXAMPLE" "$T/b" <<'PY'
import os, sys, shutil, random
src, dst = sys.argv[1], sys.argv[2]
os.umask(0o077)
paths = []
for root, dirs, files in os.walk(src):
    rel = os.path.relpath(root, src)
    for n in dirs + files:
        paths.append(os.path.normpath(os.path.join(rel, n)))
for p in sorted(paths, reverse=True):           # children before parents
    s, d = os.path.join(src, p), os.path.join(dst, p)
    os.makedirs(os.path.dirname(d), exist_ok=True)
    if os.path.islink(s):
        os.symlink(os.readlink(s), d)
    elif os.path.isdir(s):
        os.makedirs(d, exist_ok=True)
    else:
        shutil.copyfile(s, d)
        # keep the execute bits only (the umask drops group/other read)
        os.chmod(d, 0o700 if os.stat(s).st_mode & 0o111 else 0o600)
random.seed(7)
for root, dirs, files in os.walk(dst):
    for n in dirs + files:
        t = random.randint(0, 2**31)
        os.utime(os.path.join(root, n), (t, t), follow_symlinks=False)
PY
mkdir -p "$T/elsewhere"
(cd "$T/elsewhere" && umask 077 && TZ=Asia/Tokyo LANG=C.UTF-8 LC_ALL=C.UTF-8 \
	"$DERRICK" build -f "$T/b/derrick.json" --version 0.1.14 --json -o oci:"$T/out-b":latest >"$T/b.json")
digest_b=$(json_get "$T/b.json" 'd["manifest_digest"]')
same "perturbed mtimes, umask, creation order, TZ, locale, cwd: same manifest digest" "$digest_b" "$digest_a"
same "the blobs are byte-identical" "$(cd "$T/out-b/blobs" && find . -type f | sort | xargs sha256sum)" \
	"$(cd "$T/out-a/blobs" && find . -type f | sort | xargs sha256sum)"

# --- independent checkers agree -----------------------------------------
check "oci-image-tool validates the layout" oci-image-tool validate --type image --ref name=latest "$T/out-a"
skopeo inspect oci:"$T/out-a":latest >"$T/skopeo.json" 2>"$T/skopeo.err"
check "skopeo inspect accepts the image" test -s "$T/skopeo.json"
"$DERRICK" inspect --json oci:"$T/out-a":latest >"$T/inspect.json"
same "skopeo and derrick inspect agree on the manifest digest" \
	"$(json_get "$T/skopeo.json" 'd["Digest"]')" "$(json_get "$T/inspect.json" 'd["manifest_digest"]')"
same "skopeo and derrick inspect agree on the layers" \
	"$(json_get "$T/skopeo.json" '" ".join(d["Layers"])')" \
	"$(json_get "$T/inspect.json" '" ".join(l["digest"] for l in d["layers"])')"
same "skopeo sees the version label" "$(json_get "$T/skopeo.json" 'd["Labels"]["org.opencontainers.image.version"]')" "0.1.14"
same "env carries SETUPTOOLS_SCM_PRETEND_VERSION" \
	"$(json_get "$T/inspect.json" '[e for e in d["env"] if e.startswith("SETUPTOOLS_SCM_PRETEND_VERSION=")][0]')" \
	"SETUPTOOLS_SCM_PRETEND_VERSION=0.1.14"
same "manifest annotation carries the version" \
	"$(json_get "$T/inspect.json" 'd["annotations"]["org.opencontainers.image.version"]')" "0.1.14"
same "three layers, one per stage" "$(json_get "$T/a.json" '" ".join(l["stage"] for l in d["layers"])')" \
	"system dependencies app"
same "config and history timestamps come from SOURCE_DATE_EPOCH" \
	"$(json_get "$T/inspect.json" 'd["created"]')" "2023-11-14T22:13:20Z"
same "history names stage and source" "$(json_get "$T/inspect.json" 'd["layers"][2]["created_by"]')" \
	"derrick stage app: COPY src /app"

# --- what is inside: exactly the sources, with normalised metadata -------
umoci unpack --rootless --image "$T/out-a":latest "$T/bundle" >"$T/umoci.log" 2>&1
check "umoci unpack --rootless unpacks it" test -d "$T/bundle/rootfs/app/production_control"
python3 - "$T/a" "$T/bundle/rootfs" >"$T/tree.diff" 2>&1 <<'PY'
import os, sys, stat, fnmatch
src, root = sys.argv[1], sys.argv[2]
def expected():
    want = {}
    def add(base, dest, skip):
        for dp, dns, fns in os.walk(base):
            rel = os.path.relpath(dp, base)
            dns[:] = [d for d in dns if not skip(os.path.normpath(os.path.join(rel, d)), True)]
            for n in dns + fns:
                r = os.path.normpath(os.path.join(rel, n))
                if n in fns and skip(r, False):
                    continue
                st = os.lstat(os.path.join(dp, n))
                mode = 0o755 if stat.S_ISDIR(st.st_mode) or st.st_mode & 0o111 else 0o644
                want[os.path.normpath(os.path.join(dest, r))] = (stat.S_IFMT(st.st_mode), mode, os.path.join(dp, n))
        d = dest
        while d not in ("", "."):
            want.setdefault(d, (stat.S_IFDIR, 0o755, None))
            d = os.path.dirname(d)
    add(os.path.join(src, "rootfs"), "", lambda r, d: False)
    add(os.path.join(src, "build/site-packages"), "usr/local/lib/python3.11/site-packages",
        lambda r, d: os.path.basename(r) == "__pycache__" or r.endswith(".pyc"))
    ign = ["__pycache__", "*.pyc", "*.pyo", "*.egg-info", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".coverage", "*.swp", "*~"]
    add(os.path.join(src, "src"), "app",
        lambda r, d: r == ".dockerignore" or any(fnmatch.fnmatch(p, g) for p in r.split("/") for g in ign))
    return want
want = expected()
got = {}
for dp, dns, fns in os.walk(root):
    for n in dns + fns:
        p = os.path.join(dp, n)
        st = os.lstat(p)
        got[os.path.relpath(p, root)] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), p)
bad = 0
for k in sorted(set(want) | set(got)):
    if k not in got: print("missing", k); bad += 1; continue
    if k not in want: print("unexpected", k); bad += 1; continue
    if want[k][:2] != got[k][:2]: print("mode/type", k, oct(want[k][1]), oct(got[k][1])); bad += 1; continue
    if want[k][0] == stat.S_IFREG and open(want[k][2], "rb").read() != open(got[k][2], "rb").read():
        print("content", k); bad += 1
print(len(want), "paths compared")
sys.exit(1 if bad else 0)
PY
check "the unpacked root is exactly the sources, modes normalised" test $? -eq 0 -a -s "$T/tree.diff" || diag <"$T/tree.diff"
python3 - "$T/out-a" >"$T/tarcheck.txt" 2>&1 <<'PY'
import json, sys, tarfile, os
lay = sys.argv[1]
blob = lambda d: os.path.join(lay, "blobs/sha256", d.split(":")[1])
idx = json.load(open(os.path.join(lay, "index.json")))
m = json.load(open(blob(idx["manifests"][0]["digest"])))
bad = 0
for l in m["layers"]:
    with tarfile.open(blob(l["digest"]), "r:gz") as t:
        names = []
        for i in t:
            names.append(i.name.rstrip("/"))
            if (i.uid, i.gid, i.uname, i.gname, i.mtime) != (0, 0, "", "", 1700000000):
                print("metadata", i.name, i.uid, i.gid, i.uname, i.gname, i.mtime); bad += 1
            extra = set(i.pax_headers) - {"path", "linkpath", "size"}
            if extra:
                print("pax records", i.name, extra); bad += 1
        if names != sorted(names, key=lambda s: s.encode()):
            print("order", l["digest"]); bad += 1
sys.exit(1 if bad else 0)
PY
check "every entry: uid/gid 0, no names, SOURCE_DATE_EPOCH mtime, bytewise order, no extra pax" test $? -eq 0 || diag <"$T/tarcheck.txt"

# the host's python3 runs the app and its dependencies from the unpacked root
r=$T/bundle/rootfs
out=$(cd / && SETUPTOOLS_SCM_PRETEND_VERSION=0.1.14 PYTHONPATH="$r/usr/local/lib/python3.11/site-packages:$r/app" \
	python3 -S -m production_control --version 2>&1)
same "host python3 runs the app from the unpacked root" "$out" "production-control 0.1.14"
out=$(cd / && PYTHONPATH="$r/usr/local/lib/python3.11/site-packages:$r/app" /usr/bin/python3 -S -m production_control --check-imports 2>&1)
check "host python3 imports yaml, requests & co from the unpacked root" grep -q "$r/usr/local/lib/python3.11/site-packages/requests" <<<"$out"

# --- a change to one app file changes only the app layer -----------------
echo "# touched" >>"$T/a/src/production_control/app.py"
(cd "$T/a" && "$DERRICK" build --version 0.1.14 --json -o oci:"$T/out-a":latest >"$T/a2.json")
same "after an app change: system and dependencies layers unchanged" \
	"$(json_get "$T/a2.json" '" ".join(l["digest"] for l in d["layers"][:2])')" \
	"$(json_get "$T/a.json" '" ".join(l["digest"] for l in d["layers"][:2])')"
differ "after an app change: the app layer changed" \
	"$(json_get "$T/a2.json" 'd["layers"][2]["digest"]')" "$(json_get "$T/a.json" 'd["layers"][2]["digest"]')"
touch -d '2001-01-01' "$T/a/rootfs/etc/passwd" "$T/a/build/site-packages/yaml/__init__.py"
(cd "$T/a" && "$DERRICK" build --version 0.1.14 --json -o oci:"$T/out-a":latest >"$T/a3.json")
same "touching files (mtime only) changes nothing" "$(json_get "$T/a3.json" 'd["manifest_digest"]')" \
	"$(json_get "$T/a2.json" 'd["manifest_digest"]')"

# --- tags: a second tag keeps the first image and shares its blobs ------
(cd "$T/a" && "$DERRICK" build --version 0.1.14 --target dependencies --json -o oci:"$T/out-a":deps >"$T/deps.json")
same "--target dependencies builds two layers" "$(json_get "$T/deps.json" 'len(d["layers"])')" "2"
same "the deps image shares the system and dependencies layers" \
	"$(json_get "$T/deps.json" '" ".join(l["digest"] for l in d["layers"])')" \
	"$(json_get "$T/a2.json" '" ".join(l["digest"] for l in d["layers"][:2])')"
same "index.json holds both tags" \
	"$(json_get "$T/out-a/index.json" '" ".join(sorted(m["annotations"]["org.opencontainers.image.ref.name"] for m in d["manifests"]))')" \
	"deps latest"
same "latest still resolves to the same image" "$("$DERRICK" inspect --json oci:"$T/out-a":latest | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest_digest"])')" \
	"$(json_get "$T/a3.json" 'd["manifest_digest"]')"
check "no temporary files left in the layout" test -z "$(find "$T/out-a" -name '.tmp-*' -o -name '.derrick-*')"
check "no staging directory left beside it" test -z "$(find "$T" -maxdepth 1 -name '.derrick-stage-*')"
check "skopeo reads the deps tag" skopeo inspect oci:"$T/out-a":deps

# --- several outputs in one run ---------------------------------------------
(cd "$T/a" && "$DERRICK" build -q --version 0.1.14 -o oci:"$T/m1":x -o oci:"$T/m2" -o oci:"$T/m1":y)
same "two -o into one layout: both tags" \
	"$(json_get "$T/m1/index.json" '" ".join(m["annotations"]["org.opencontainers.image.ref.name"] for m in d["manifests"])')" "x y"
same "an untagged output has one untagged entry" "$(json_get "$T/m2/index.json" 'len(d["manifests"]) == 1 and "annotations" not in d["manifests"][0]')" "True"
check "derrick inspect reads an untagged single-image layout" "$DERRICK" inspect oci:"$T/m2"

# --- concurrent builds tagging into one layout keep every tag -------------
for i in 1 2 3 4 5 6; do
	(cd "$T/a" && "$DERRICK" build -q --version "0.1.$i" -o oci:"$T/conc":"v$i" 2>"$T/conc-$i.err" || echo "build $i failed" >>"$T/conc-$i.err") &
done
wait
same "six concurrent builds into one layout: every build succeeds" "$(cat "$T"/conc-*.err)" ""
same "six concurrent builds into one layout: six tags" \
	"$(json_get "$T/conc/index.json" '" ".join(sorted(m["annotations"]["org.opencontainers.image.ref.name"] for m in d["manifests"]))')" \
	"v1 v2 v3 v4 v5 v6"
check "  ... and the layout validates" oci-image-tool validate --type image "$T/conc"

# --- SOURCE_DATE_EPOCH changes timestamps, platform changes the config ----
(cd "$T/a" && SOURCE_DATE_EPOCH=0 "$DERRICK" build --version 0.1.14 --json -o oci:"$T/e0" >"$T/e0.json")
differ "another SOURCE_DATE_EPOCH gives another image" "$(json_get "$T/e0.json" 'd["manifest_digest"]')" "$(json_get "$T/a3.json" 'd["manifest_digest"]')"
(cd "$T/a" && "$DERRICK" build --platform linux/arm64/v8 --version 0.1.14 -q -o oci:"$T/arm")
same "--platform sets architecture and variant" \
	"$("$DERRICK" inspect --json oci:"$T/arm" | python3 -c 'import json,sys; p=json.load(sys.stdin)["platform"]; print(p["os"], p["architecture"], p["variant"])')" "linux arm64 v8"

# --- --version-from-git ---------------------------------------------------
(cd "$T/a" && git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm init && git tag v0.1.14 \
	&& "$DERRICK" build --version-from-git --json -o oci:"$T/git" >"$T/git.json")
same "--version-from-git: tag v0.1.14 gives 0.1.14" "$(json_get "$T/git.json" 'd["version"]')" "0.1.14"
same "--version-from-git records the commit as revision" \
	"$("$DERRICK" inspect --json oci:"$T/git" | python3 -c 'import json,sys; print(json.load(sys.stdin)["labels"]["org.opencontainers.image.revision"])')" \
	"$(git -C "$T/a" rev-parse HEAD)"
same "a git build and a --version build of the same tree differ only in the revision label" \
	"$(json_get "$T/git.json" '" ".join(l["digest"] for l in d["layers"])')" \
	"$(json_get "$T/a3.json" '" ".join(l["digest"] for l in d["layers"])')"
echo change >>"$T/a/README.md"
(cd "$T/a" && "$DERRICK" build --version-from-git --json -o oci:"$T/git2" >"$T/git2.json")
same "a dirty tree is marked" "$(json_get "$T/git2.json" 'd["version"]')" "0.1.14-dirty"

echo "1..$_n"
