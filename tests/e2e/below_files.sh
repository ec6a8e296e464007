#!/usr/bin/env bash
# below_files.sh - what a layer reads of the image below it at plan time
# (a wheels layer's default libc, a debs layer's dpkg status) comes from the
# layers planned below it, topmost first, then the base image
# (dk_source_read_below): a directory source's file is read from disk, a
# "delete" hides it, an ignored file is not there, and a layer that cannot
# tell before it is built (a tar) or a symlink on the way is refused by name.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

W=$(bash "$TOP_SRCDIR/tests/lib/test-wheels.sh" 2>"$T/wheels.err" | tail -n 1)
if [[ -z $W || ! -f $W/SHA256SUMS ]]; then
	skip "files below a layer" "no test wheels: $(tail -n 1 "$T/wheels.err")"
	echo "1..$_n"
	exit 0
fi
cd "$T" || exit 1
cp -r "$W/wheels" "$W/pylock.toml" .
chmod -R u+w .
export SOURCE_DATE_EPOCH=0
mkdir -p root/var/lib/dpkg other/etc
printf 'Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9+deb12u4\n\n' \
	>root/var/lib/dpkg/status
echo x >other/etc/x

# spec FILE LOWER_LAYERS_JSON WHEELS_EXTRA: a root stage, then a wheels stage
spec() {
	printf '{ "base": "scratch", "stages": [ { "name": "root", "layers": [ %s ] },
	  { "name": "deps", "layers": [ { "wheels": { "lock": "pylock.toml", "python": "3.11"%s } } ] } ] }\n' \
		"$2" "${3:-}" >"$1"
}
deps_digests() { json_get "$1" "' '.join(l['digest'] for l in d['layers'] if l['stage'] == 'deps')"; }

spec implicit.json '{ "source": "root", "dest": "/" }, { "source": "other", "dest": "/" }'
"$DERRICK" build -f implicit.json --platform linux/amd64 -o oci:a --json >a.json 2>a.err
check "the wheels layer's libc comes from a directory stage's dpkg status (no base image)" test -s a.json
[[ -s a.json ]] || diag <a.err
spec explicit.json '{ "source": "root", "dest": "/" }' ', "libc": "glibc 2.36"'
"$DERRICK" build -f explicit.json --platform linux/amd64 -o oci:b --json >b.json 2>b.err
same "  ... the same layers as with \"libc\": \"glibc 2.36\" given" "$(deps_digests a.json)" "$(deps_digests b.json)"

spec deleted.json '{ "source": "root", "dest": "/" }, { "delete": ["/var/lib/dpkg"] }'
expect_error "a delete above the status hides it" "image below has no libc6" \
	"$DERRICK" build -f deleted.json --platform linux/amd64 -o oci:c

echo 'var/lib/dpkg/status' >ignore
spec ignored.json '{ "source": "root", "dest": "/", "ignore_file": "../ignore" }'
expect_error "an ignored status is not below" "image below has no libc6" \
	"$DERRICK" build -f ignored.json --platform linux/amd64 -o oci:d

tar -cf root.tar -C root .
spec tar.json '{ "tar": "root.tar", "dest": "/" }'
expect_error "a tar layer below cannot tell: refused, naming it" \
	'stages[0].layers[0] (a tar root.tar) may write /var/lib/dpkg/status' \
	"$DERRICK" build -f tar.json --platform linux/amd64 -o oci:e
spec tar-low.json '{ "tar": "root.tar", "dest": "/" }, { "source": "root", "dest": "/" }'
"$DERRICK" build -f tar-low.json --platform linux/amd64 -o oci:f --json >f.json 2>f.err
same "  ... but a directory layer above it that has the file answers first" "$(deps_digests f.json)" \
	"$(deps_digests b.json)"

mkdir -p linked/var/lib && ln -s ../../root/var/lib/dpkg linked/var/lib/dpkg
spec link.json '{ "source": "linked", "dest": "/" }'
expect_error "a symlink on the way to the file is not followed on this machine" \
	'var/lib/dpkg is a symlink' "$DERRICK" build -f link.json --platform linux/amd64 -o oci:g
for o in c d e g; do
	check "  ... no output layout after the refusal ($o)" test ! -e "$o"
done
echo "1..$_n"
