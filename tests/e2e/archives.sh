#!/usr/bin/env bash
# docker-archive: and oci-archive: (issue #12): the example built into both
# loads into podman with derrick's config digest, diff_ids, labels, env and
# entrypoint; skopeo and derrick read each other's archives, through a
# layout and a registry, both ways; archives are the same bytes whatever
# the umask and TZ; a write that fails leaves no file and an existing
# archive as it was; a truncated or corrupt archive is named with its member.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"

sp=$(site_packages) || true
if [[ -z $sp || ! -d $sp ]]; then skip "archives" "no site-packages"; echo "1..$_n"; exit 0; fi
ij() { "$DERRICK" inspect --json "$1"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
leftovers() { find "$1" -maxdepth 1 -name '.derrick-*' | wc -l; }
unpacked() { find "$XDG_CACHE_HOME/derrick/tmp" -mindepth 1 2>/dev/null | wc -l; }
NAME=example/app:0.1.14

# --- build into both archives (and a layout, to compare with) ------------
copy_example "$T/a"
start=$(date +%s%N)
(cd "$T/a" && umask 022 && "$DERRICK" build -q --version 0.1.14 --json -o docker-archive:"$T/d.tar:$NAME" \
	-o oci-archive:"$T/o.tar":0.1.14 -o oci:"$T/lay":0.1.14 >"$T/a.json")
ms=$((($(date +%s%N) - start) / 1000000))
check "build into docker-archive, oci-archive and a layout at once" test -s "$T/a.json"
diag <<<"built both archives and a layout in $ms ms; docker-archive $(stat -c %s "$T/d.tar") bytes (uncompressed layers), oci-archive $(stat -c %s "$T/o.tar") bytes"
same "nothing temporary is left beside the archives" "$(leftovers "$T")" 0
ij oci:"$T/lay":0.1.14 >"$T/lay.json"
cfg=$(json_get "$T/lay.json" 'd["config_digest"]')
ids=$(json_get "$T/lay.json" '" ".join(l["diff_id"] for l in d["layers"])')
mdg=$(json_get "$T/lay.json" 'd["manifest_digest"]')
same "the build reports the manifest every output got" "$(json_get "$T/a.json" 'd["manifest_digest"]')" "$mdg"

# docker save's layout: the config by its digest, each layer as its uncompressed tar named by diff_id
tar -xOf "$T/d.tar" manifest.json >"$T/manifest.json"
same "docker-archive manifest.json: Config is the config digest's <hex>.json" \
	"$(json_get "$T/manifest.json" 'd[0]["Config"]')" "${cfg#sha256:}.json"
same "  ... RepoTags holds the name" "$(json_get "$T/manifest.json" 'd[0]["RepoTags"]')" "['$NAME']"
same "  ... Layers are <diff_id hex>.tar in order" "$(json_get "$T/manifest.json" '" ".join(d[0]["Layers"])')" \
	"$(for i in $ids; do printf '%s.tar ' "${i#sha256:}"; done | sed 's/ $//')"
mkdir "$T/dx" && tar -xf "$T/d.tar" -C "$T/dx"
same "  ... each layer member hashes to its diff_id" \
	"$(for i in $ids; do printf 'sha256:%s ' "$(sha "$T/dx/${i#sha256:}.tar")"; done | sed 's/ $//')" "$ids"
same "  ... repositories names the top layer" "$(cat "$T/dx/repositories")" \
	"{\"example/app\":{\"0.1.14\":\"$(echo "$ids" | awk '{print $NF}' | sed 's/sha256://')\"}}"
same "entries sorted by name, mtime 0, root-owned, fixed modes" \
	"$(tar -tvf "$T/o.tar" | awk '{print $1, $2, $4, $5}' | sort -u | tr '\n' ' ')" \
	"-rw-r--r-- 0/0 1970-01-01 00:00 drwxr-xr-x 0/0 1970-01-01 00:00 "
same "  ... in name order (oci-archive)" "$(tar -tf "$T/o.tar")" "$(tar -tf "$T/o.tar" | LC_ALL=C sort)"
same "  ... in name order (docker-archive)" "$(tar -tf "$T/d.tar")" "$(tar -tf "$T/d.tar" | LC_ALL=C sort)"
same "oci-archive: the tag is the ref.name annotation" \
	"$(tar -xOf "$T/o.tar" index.json | python3 -c 'import json,sys; m=json.load(sys.stdin)["manifests"]; print(len(m), m[0]["digest"], m[0]["annotations"]["org.opencontainers.image.ref.name"])')" \
	"1 $mdg 0.1.14"

# --- reproducible: another umask, TZ and directory give the same bytes ---
copy_example "$T/b"
(cd "$T/b" && umask 077 && TZ=Pacific/Kiritimati "$DERRICK" build -q --no-cache --version 0.1.14 \
	-o docker-archive:"$T/d2.tar:$NAME" -o oci-archive:"$T/o2.tar":0.1.14)
check "two builds (umask 077, another TZ, no cache): identical docker-archive" cmp "$T/d.tar" "$T/d2.tar"
check "  ... and identical oci-archive" cmp "$T/o.tar" "$T/o2.tar"
same "  ... mode 0644 whatever the umask" "$(stat -c %a "$T/d2.tar") $(stat -c %a "$T/o2.tar")" "644 644"
(cd "$T/b" && "$DERRICK" build -q --compression zstd --version 0.1.14 -o docker-archive:"$T/dz.tar:$NAME")
check "zstd layers give the same docker-archive (uncompressed layers, same config)" cmp "$T/d.tar" "$T/dz.tar"
gzip -c "$T/d.tar" >"$T/d.tar.gz"
same "a gzipped docker-archive (docker save | gzip) reads the same" \
	"$(ij docker-archive:"$T/d.tar.gz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["config_digest"])')" "$cfg"
start=$(date +%s%N)
"$DERRICK" push -q oci:"$T/lay":0.1.14 docker-archive:"$T/d3.tar:$NAME"
diag <<<"push layout -> docker-archive (decompressing every layer twice): $((($(date +%s%N) - start) / 1000000)) ms"
"$DERRICK" push -q oci:"$T/lay":0.1.14 oci-archive:"$T/o3.tar":0.1.14
check "push from the layout writes the same docker-archive" cmp "$T/d.tar" "$T/d3.tar"
check "  ... and the same oci-archive" cmp "$T/o.tar" "$T/o3.tar"

# --- derrick reads them back ---------------------------------------------
ij oci-archive:"$T/o.tar":0.1.14 >"$T/o.json"
same "oci-archive read back: the same manifest" "$(json_get "$T/o.json" 'd["manifest_digest"]')" "$mdg"
ij docker-archive:"$T/d.tar:$NAME" >"$T/d.json"
same "docker-archive read back: the same config digest" "$(json_get "$T/d.json" 'd["config_digest"]')" "$cfg"
same "  ... its layers are the uncompressed tars: digest = diff_id" \
	"$(json_get "$T/d.json" '" ".join(l["digest"] for l in d["layers"])')" "$ids"
same "  ... media type of an uncompressed OCI layer" \
	"$(json_get "$T/d.json" '" ".join(sorted(set(l["media_type"] for l in d["layers"])))')" \
	"application/vnd.oci.image.layer.v1.tar"
same "  ... the only image is found without a name" \
	"$(ij docker-archive:"$T/d.tar" | python3 -c 'import json,sys; print(json.load(sys.stdin)["config_digest"])')" "$cfg"
"$DERRICK" push -q oci-archive:"$T/o.tar":0.1.14 oci:"$T/from-o":x
same "oci-archive -> layout keeps the manifest byte for byte" \
	"$(ij oci:"$T/from-o":x | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest_digest"])')" "$mdg"
"$DERRICK" push -q docker-archive:"$T/d.tar" docker-archive:"$T/d4.tar:$NAME"
check "docker-archive -> docker-archive: the same bytes" cmp "$T/d.tar" "$T/d4.tar"
same "every unpacked archive was removed" "$(unpacked)" 0

# a base image in a docker-archive
mkdir -p "$T/on/src" && echo hi >"$T/on/src/hello"
echo "{ \"base\": \"docker-archive:$T/d.tar:$NAME\", \"stages\": [ { \"name\": \"x\", \"layers\": [ { \"source\": \"src\", \"dest\": \"/x\" } ] } ] }" >"$T/on/derrick.json"
"$DERRICK" build -q -f "$T/on/derrick.json" -o oci:"$T/on-out":1 2>"$T/on.err"
same "a docker-archive as base: its diff_ids come first" \
	"$(ij oci:"$T/on-out":1 | python3 -c 'import json,sys; print(" ".join(l["diff_id"] for l in json.load(sys.stdin)["layers"][:-1]))')" "$ids"

# --- podman loads both: the same image --------------------------------------
if command -v podman >/dev/null; then
	L=$(mktemp -d /tmp/derrick-podman-ar.XXXXXX)
	at_exit 'chmod -R u+w "$L" 2>/dev/null; rm -rf "$L"'
	pod() { podman --storage-driver vfs --root "$L/storage" --runroot "$L/run" --cgroup-manager cgroupfs \
		--events-backend file "$@"; }
	want=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
print(d["config_digest"][7:], " ".join(l["diff_id"] for l in d["layers"]), sorted(d["labels"].items()), d["env"], d["entrypoint"])' "$T/lay.json")
	seen() { pod image inspect "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]
print(d["Id"], " ".join(d["RootFS"]["Layers"]), sorted(d["Labels"].items()), d["Config"]["Env"], d["Config"]["Entrypoint"])'; }
	pod load -q -i "$T/d.tar" >"$T/load-d" 2>&1
	check "podman load takes the docker-archive" grep -q "Loaded image: localhost/$NAME" "$T/load-d"
	same "  ... podman image inspect: Id, diff_ids, labels, env, entrypoint as derrick inspect" "$(seen "$NAME")" "$want"
	# and derrick reads what podman saves: one entry with two names, and an oci-archive
	pod tag "$NAME" other/img:2 >/dev/null 2>&1
	pod save -q -m --format docker-archive -o "$T/pod-d.tar" "$NAME" other/img:2 >/dev/null 2>&1
	same "derrick reads podman's docker-archive by either name: derrick's config" \
		"$(for n in "localhost/$NAME" localhost/other/img:2; do ij docker-archive:"$T/pod-d.tar:$n" | python3 -c 'import json,sys; print(json.load(sys.stdin)["config_digest"])'; done | sort -u)" "$cfg"
	expect_error "  ... a name it does not hold (docker.io's, not localhost's): the names it has" \
		"holds no image named other/img:2 (names: localhost/$NAME, localhost/other/img:2)" \
		"$DERRICK" inspect docker-archive:"$T/pod-d.tar":other/img:2
	pod rmi -a -f >/dev/null 2>&1
	pod load -q -i "$T/o.tar" >"$T/load-o" 2>&1
	check "podman load takes the oci-archive" grep -q "Loaded image" "$T/load-o"
	same "  ... podman image inspect: Id, diff_ids, labels, env, entrypoint as derrick inspect" \
		"$(seen "$(pod images -q --no-trunc | head -n 1)")" "$want"
	# (saved from an image loaded as OCI: one loaded from a docker-archive podman would convert)
	pod save -q --format oci-archive -o "$T/pod-o.tar" "$(pod images -q --no-trunc | head -n 1)" >/dev/null 2>&1
	same "derrick reads podman's oci-archive (its layers recompressed by podman): derrick's config and diff_ids" \
		"$(ij oci-archive:"$T/pod-o.tar" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["config_digest"], " ".join(l["diff_id"] for l in d["layers"]))')" "$cfg $ids"
	pod rmi -a -f >/dev/null 2>&1
else
	skip "podman load" "podman is not installed"
fi

# --- skopeo: archives, layouts and a registry, both ways ------------------
same "skopeo reads the docker-archive: config and diff_ids" \
	"$(skopeo inspect --config docker-archive:"$T/d.tar" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["rootfs"]["diff_ids"]))')" "$ids"
same "skopeo reads the oci-archive: the same manifest" \
	"$(skopeo inspect oci-archive:"$T/o.tar":0.1.14 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')" "$mdg"
skopeo copy -q oci-archive:"$T/o.tar":0.1.14 oci:"$T/sk-lay":1 >/dev/null 2>&1
same "skopeo copies the oci-archive into a layout unchanged" \
	"$(ij oci:"$T/sk-lay":1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest_digest"])')" "$mdg"
skopeo copy -q oci:"$T/lay":0.1.14 docker-archive:"$T/sk-d.tar:other/name:2" >/dev/null 2>&1
skopeo copy -q oci:"$T/lay":0.1.14 oci-archive:"$T/sk-o.tar":2 >/dev/null 2>&1
same "derrick reads skopeo's docker-archive (legacy symlinked dirs and all): the diff_ids" \
	"$(ij docker-archive:"$T/sk-d.tar:other/name:2" | python3 -c 'import json,sys; print(" ".join(l["diff_id"] for l in json.load(sys.stdin)["layers"]))')" "$ids"
"$DERRICK" push -q oci-archive:"$T/sk-o.tar":2 oci:"$T/from-sk":2
same "derrick reads skopeo's oci-archive: skopeo's manifest digest" \
	"$(ij oci:"$T/from-sk":2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest_digest"])')" \
	"$(skopeo inspect oci-archive:"$T/sk-o.tar":2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')"
if m=$(registry_missing); then
	skip "archives through a registry" "missing: $m"
else
	registry_start reg plain || exit 1
	R=$REG_ADDR
	"$DERRICK" push -q --tls-verify=false oci-archive:"$T/o.tar":0.1.14 "docker://$R/app:o"
	same "derrick pushes the oci-archive: skopeo sees its manifest in the registry" \
		"$(skopeo inspect --tls-verify=false "docker://$R/app:o" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')" "$mdg"
	check "  ... skopeo pulls it back and every digest verifies" registry_verify reg app:o
	"$DERRICK" push -q --tls-verify=false "docker://$R/app:o" oci-archive:"$T/o5.tar":0.1.14
	check "registry -> oci-archive: the very bytes derrick built" cmp "$T/o.tar" "$T/o5.tar"
	"$DERRICK" push -q --tls-verify=false "docker://$R/app:o" docker-archive:"$T/d5.tar:$NAME"
	check "registry -> docker-archive: the very bytes derrick built" cmp "$T/d.tar" "$T/d5.tar"
	"$DERRICK" push -q --tls-verify=false docker-archive:"$T/d.tar" "docker://$R/app:d"
	same "docker-archive -> registry: skopeo reads the config and diff_ids" \
		"$(skopeo inspect --tls-verify=false --config "docker://$R/app:d" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["rootfs"]["diff_ids"]))')" "$ids"
	skopeo copy -q --dest-tls-verify=false docker-archive:"$T/d.tar" "docker://$R/app:skd" >/dev/null 2>&1
	skopeo copy -q --src-tls-verify=false "docker://$R/app:skd" oci-archive:"$T/sk-reg.tar":r >/dev/null 2>&1
	same "skopeo: docker-archive -> registry -> oci-archive, derrick reads it: the diff_ids" \
		"$(ij oci-archive:"$T/sk-reg.tar":r | python3 -c 'import json,sys; print(" ".join(l["diff_id"] for l in json.load(sys.stdin)["layers"]))')" "$ids"
fi

# --- atomic: a failed write leaves no file, an existing one as it was ------
before=$(sha "$T/d.tar")
cp -a "$T/lay" "$T/broken"
layer=$(json_get "$T/lay.json" 'd["layers"][1]["digest"]')
rm "$T/broken/blobs/sha256/${layer#sha256:}"
expect_error "a missing blob: the write fails" "${layer#sha256:}" \
	"$DERRICK" push -q oci:"$T/broken":0.1.14 docker-archive:"$T/d.tar:$NAME"
same "  ... the existing docker-archive is untouched" "$(sha "$T/d.tar")" "$before"
"$DERRICK" push -q oci:"$T/broken":0.1.14 oci-archive:"$T/new.tar" 2>/dev/null
same "  ... and no new oci-archive appears" "$(exists "$T/new.tar")" absent
same "  ... nothing temporary is left" "$(leftovers "$T")" 0
# a write cut off half way: the file size limit stops it after 1 MiB
before=$(sha "$T/o.tar")
(trap '' XFSZ; ulimit -f 1024; "$DERRICK" push -q oci:"$T/lay":0.1.14 docker-archive:"$T/o.tar") 2>"$T/xfsz.err"
differ "a write cut off half way fails" "$?" 0
check "  ... saying why" grep -q "File too large" "$T/xfsz.err"
same "  ... the existing file is untouched" "$(sha "$T/o.tar")" "$before"
(trap '' XFSZ; ulimit -f 1024; "$DERRICK" push -q oci:"$T/lay":0.1.14 docker-archive:"$T/half.tar") 2>/dev/null
same "  ... a new one is not created" "$(exists "$T/half.tar")" absent
same "  ... nothing temporary is left" "$(leftovers "$T")" 0
mkdir "$T/dir.tar"
expect_error "a directory in the archive's place is refused" "exists and is not a file" \
	"$DERRICK" push -q oci:"$T/lay":0.1.14 oci-archive:"$T/dir.tar"
expect_error "a missing parent directory is refused" "$T/no/such" \
	"$DERRICK" push -q oci:"$T/lay":0.1.14 oci-archive:"$T/no/such/o.tar"

# --- truncated and corrupt archives are named, with the member ------------
big=$(json_get "$T/lay.json" 'd["layers"][1]["diff_id"]')
head -c 100000 "$T/d.tar" >"$T/trunc.tar"
expect_error "a truncated docker-archive: the file and the member" "trunc.tar: member ${big#sha256:}.tar" \
	"$DERRICK" inspect docker-archive:"$T/trunc.tar"
cp "$T/o.tar" "$T/flip.tar"
off=$(python3 -c 'import sys, tarfile
t = tarfile.open(sys.argv[1])
m = max(t.getmembers(), key=lambda m: m.size)
print(m.offset_data + m.size // 2, m.name)' "$T/flip.tar")
printf '\xff' | dd of="$T/flip.tar" bs=1 seek="${off% *}" conv=notrunc status=none
expect_error "a flipped byte in an oci-archive blob: the file and the member" "flip.tar member ${off#* }" \
	"$DERRICK" push -q oci-archive:"$T/flip.tar":0.1.14 oci:"$T/from-flip":x
cp "$T/o.tar" "$T/hdr.tar"
printf 'garbage!' | dd of="$T/hdr.tar" bs=1 seek=1024 conv=notrunc status=none
expect_error "a corrupt header: the file and the member after which it is" "hdr.tar: after member blobs/sha256/" \
	"$DERRICK" inspect oci-archive:"$T/hdr.tar"
expect_error "not a tar at all" "$T/o.json: " "$DERRICK" inspect oci-archive:"$T/o.json"
expect_error "an oci-archive read as a docker-archive" "has no member manifest.json" \
	"$DERRICK" inspect docker-archive:"$T/o.tar"
expect_error "a name the docker-archive does not hold: its names are listed" "names: $NAME" \
	"$DERRICK" inspect docker-archive:"$T/d.tar:other/app:1"
same "every unpacked archive was removed, after failures too" "$(unpacked)" 0
echo "1..$_n"
