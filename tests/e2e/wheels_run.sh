#!/usr/bin/env bash
# wheels_run.sh - an image whose dependencies layers derrick installed from a
# lock runs: the suite's Debian root (Python 3.11) below, the test wheels in
# Debian's dist-packages with /usr/bin/python3.11 as their scripts'
# interpreter, an app on top; podman imports the packages (the C extension
# among them) and runs a console-script wrapper.  The root is an earlier
# stage, not the base image, so python and libc come from the spec (the
# defaults from a base image: wheels_build.sh).  examples/wheels-app builds and runs too.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
	skip "wheels image runs" "podman and runc are not installed"
	echo "1..$_n"; exit 0
fi
root=$("$TOP_SRCDIR/tests/lib/debian-root.sh" 2>"$T/root.err" | tail -n 1) || true
W=$(bash "$TOP_SRCDIR/tests/lib/test-wheels.sh" 2>"$T/wheels.err" | tail -n 1) || true
if [[ -z $root || ! -x $root/usr/bin/python3.11 || -z $W || ! -f $W/SHA256SUMS ]]; then
	skip "wheels image runs" "no Debian root with python3.11 or no test wheels: $(cat "$T/root.err" "$T/wheels.err" | tail -n 2)"
	echo "1..$_n"; exit 0
fi
L=/tmp/derrick-wheels-run-$$
mkdir -p "$L"
at_exit 'chmod -R u+w "$L" 2>/dev/null; rm -rf "$L"'
mkdir -p "$T/p/app" && cd "$T/p" || exit 1
cp -r "$W/wheels" "$W/pylock.toml" .
ln -s "$root" rootfs
cat >app/main.py <<'EOF'
import subprocess, sys
import yaml, dkcext, dkns.one, dkns.two
print("yaml", yaml.__version__, yaml.safe_load("a: [1, 2]"), "add", dkcext.add(2, 3), flush=True)
sys.exit(subprocess.call(["/usr/local/bin/dk-hello", "from", "the", "wrapper"]))
EOF
cat >d.json <<'EOF'
{ "base": "scratch",
  "stages": [
    { "name": "system", "layers": [ { "source": "rootfs", "dest": "/" } ] },
    { "name": "dependencies", "layers": [ { "wheels": {
        "lock": "pylock.toml", "python": "3.11", "libc": "glibc 2.36",
        "site_packages": "/usr/local/lib/python3.11/dist-packages", "interpreter": "/usr/bin/python3.11" } } ] },
    { "name": "app", "layers": [ { "source": "app", "dest": "/app" } ] } ],
  "config": { "entrypoint": ["/usr/bin/python3.11", "/app/main.py"], "env": { "PYTHONDONTWRITEBYTECODE": "1" } } }
EOF
"$DERRICK" build -f d.json --platform linux/amd64 -o "oci:$L/out:1" --json >build.json 2>build.err
check "build on the Debian root" test -s build.json
[[ -s build.json ]] || diag <build.err
same "layers: the root, the split wheels, the app" \
	"$(json_get build.json '" ".join(l["stage"] for l in d["layers"])')" \
	"system dependencies dependencies dependencies dependencies app"

pod() {
	podman --storage-driver vfs --root "$L/storage" --runroot "$L/run" --cgroup-manager cgroupfs \
		--events-backend file "$@"
}
out=$(pod run --rm --network none --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
	"oci:$L/out:1" 2>"$T/podman.err")
same "podman runs it: the packages import (the C extension too) and the console script runs" "$out" \
	"yaml 6.0 {'a': [1, 2]} add 5
hello from dk-entry-points from the wrapper"
[[ $out == *wrapper ]] || diag <"$T/podman.err"
pod rmi -a -f >/dev/null 2>&1

# examples/wheels-app builds offline (Debian's own wheels from /usr/share/python-wheels) and runs on
# the root its prepare.sh makes: Debian 12 with the full python3 (the suite's root has only
# python3-minimal), built once from the apt mirror and cached as the suite's root is
full=$(DERRICK_DEBIAN_PACKAGES=python3 "$TOP_SRCDIR/tests/lib/debian-root.sh" 2>"$T/full.err" | tail -n 1) || true
if [[ -f /usr/share/python-wheels/wheel-0.38.4-py3-none-any.whl && -n $full && -x $full/usr/bin/python3.11 ]]; then
	cp -r "$TOP_SRCDIR/examples/wheels-app" ex
	ln -sfn "$full" ex/rootfs
	"$DERRICK" build -f ex/derrick.json --platform linux/amd64 -o "oci:$L/ex:1" --json >ex.json 2>ex.err
	same "examples/wheels-app builds offline: pip, setuptools and wheel in a wheels layer" \
		"$(json_get ex.json '" ".join(l["created_by"].split(": ", 1)[1] for l in d["layers"] if l["stage"] == "dependencies")')" \
		"WHEELS pip==23.0.1 setuptools==66.1.1 wheel==0.38.4"
	[[ -s ex.json ]] || diag <ex.err
	dig=$(json_get ex.json '[l["digest"] for l in d["layers"] if l["stage"] == "dependencies"][0]')
	tar -xzOf "$L/ex/blobs/sha256/${dig#sha256:}" usr/local/bin/wheel >wheel.script 2>/dev/null
	same "  ... wheel's console script runs /usr/bin/python3.11" "$(head -n 1 wheel.script)" "#!/usr/bin/python3.11"
	out=$(pod run --rm --network none --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
		"oci:$L/ex:1" 2>"$T/ex-podman.err")
	same "  ... and runs as its README says: the packages import, wheel's console script runs" "$out" \
		"python 3.11.2
pip 23.0.1 setuptools 66.1.1 wheel 0.38.4
wheel 0.38.4"
	[[ $out == *"wheel 0.38.4" ]] || diag <"$T/ex-podman.err"
	pod rmi -a -f >/dev/null 2>&1
else
	skip "examples/wheels-app" "no /usr/share/python-wheels (python3-wheel-whl) or no Debian root with python3: $(tail -n 1 "$T/full.err")"
fi
echo "1..$_n"
