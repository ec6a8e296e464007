#!/usr/bin/env bash
# The image runs: the example on a minimal Debian root (debootstrap, cached),
# run with podman straight from the OCI layout; the app prints the version
# stamped at build time.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
	skip "podman run" "podman and runc are not installed"
	echo "1..$_n"; exit 0
fi
sp=$(site_packages) || true
root=$("$TOP_SRCDIR/tests/lib/debian-root.sh" 2>"$T/root.err" | tail -n 1) || true
if [[ -z $sp || ! -d $sp || -z $root || ! -x $root/usr/bin/python3 ]]; then
	skip "podman run" "no site-packages or Debian root: $(cat "$T/.sp.err" "$T/root.err" | tail -n 2)"
	echo "1..$_n"; exit 0
fi

# podman names an image after its layout path, and names must be lowercase
L=/tmp/derrick-podman-$$
mkdir -p "$L"
at_exit 'chmod -R u+w "$L" 2>/dev/null; rm -rf "$L"'
copy_example "$T/app"
ln -sfn "$root" "$T/app/build/debian-root"
(cd "$T/app" && "$DERRICK" build -f derrick-debian.json --version 2.5.0 --json -o oci:"$L/out":2.5.0 >"$T/build.json") 2>"$T/build.err"
check "build the example on a Debian root" test -s "$T/build.json"
check "the Debian root's devices were skipped with a warning" grep -q "skipping ./build/debian-root/dev/null: sockets, fifos and devices" "$T/build.err"
same "four layers: Debian root, rootfs overlay, dependencies, app" \
	"$(json_get "$T/build.json" '" ".join(l["stage"] for l in d["layers"])')" "system system dependencies app"

pod() {
	podman --storage-driver vfs --root "$L/storage" --runroot "$L/run" --cgroup-manager cgroupfs \
		--events-backend file "$@"
}
out=$(pod run --rm --network none --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
	oci:"$L/out":2.5.0 --version 2>"$T/podman.err")
same "podman runs the image and the app prints the stamped version" "$out" "production-control 2.5.0"
[[ $out == "production-control 2.5.0" ]] || diag <"$T/podman.err"
user=$(pod run --rm --network none --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
	--entrypoint id oci:"$L/out":2.5.0 -u 2>>"$T/podman.err")
same "it runs as the configured user" "$user" "1000"
pod image inspect --format '{{index .Labels "org.opencontainers.image.version"}}' "$(pod images -q | head -n 1)" >"$T/label" 2>>"$T/podman.err"
same "podman sees the version label" "$(cat "$T/label")" "2.5.0"
pod rmi -a -f >/dev/null 2>&1
echo "1..$_n"
