#!/usr/bin/env bash
# .debs read into layer entries and the dpkg database made for them (issue
# #13, section 2), against dpkg's own tools as oracles, with real packages
# from the machine's apt sources (cached under /var/cache/derrick-tests):
#   - jq, libjq1, libonig5 (Multi-Arch: same libraries), sudo (setuid, conffiles,
#     maintainer scripts), passwd (setgid, group shadow), all data.tar.xz; and a
#     package built here with dpkg-deb -Zzstd (bookworm ships no zstd .debs)
#     holding a numeric owner, a sticky and a setgid directory and a hardlink:
#     every entry's path, type, mode, uid/gid, size and link target equal
#     `dpkg-deb --fsys-tarfile`, the control fields `dpkg-deb --field`;
#   - the database files laid over the suite's Debian root's dpkg database:
#     `dpkg --root -l` lists the packages with their versions, `dpkg --verify`
#     (md5sums, conffiles) passes, `dpkg --audit` is clean, `dpkg -S` finds
#     the files; base stanzas are kept byte for byte, stanzas sorted; and as
#     root, `dpkg --root -i` of the same packages into a whole copy of the
#     root writes the same status file and info files, byte for byte;
#   - without a base status: status.d/PKG and PKG.md5sums, as distroless has;
#   - refusals, one line naming package and member: "..", absolute paths,
#     escaping symlinks, entries below a symlink, debian-binary 3.0,
#     a truncated member, members out of order or missing.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

PY=/usr/bin/python3
TOOL=$(dirname "$DERRICK")/tests/lib/deb_unpack
KIT=$TOP_SRCDIR/tests/lib/debkit.py
CACHE=${DERRICK_TEST_CACHE:-/var/cache/derrick-tests}/deb-install-debs
PKGS=(jq libjq1 libonig5 sudo passwd)
umask 022

done_skip() { skip "deb install" "$1"; echo "1..$_n"; exit 0; }
[[ -x $TOOL ]] || done_skip "needs tests/lib/deb_unpack (make check)"
command -v dpkg-deb >/dev/null || done_skip "needs dpkg-deb"

# The real packages, fetched once with apt (its sources name the mirror).
mkdir -p "$CACHE" 2>/dev/null || true
for p in "${PKGS[@]}"; do
	ls "$CACHE/${p}"_*.deb >/dev/null 2>&1 && continue
	(cd "$CACHE" && apt-get download "$p" >/dev/null 2>"$T/apt.err") || done_skip "apt-get download $p failed: $(tail -n1 "$T/apt.err")"
done
deb() { ls "$CACHE/$1"_*.deb | tail -n 1; }

# A zstd package built here, with what the real ones lack.
if [[ $(id -u) == 0 ]]; then
	z=$T/zpkg
	mkdir -p "$z/DEBIAN" "$z/opt/z/sticky" "$z/opt/z/shared" "$z/usr/bin"
	printf 'Package: zpkg\nVersion: 2:1.0~rc1-1\nArchitecture: amd64\nMulti-Arch: same\nMaintainer: t <t@example.org>\nDescription: zstd test package\n' >"$z/DEBIAN/control"
	printf '/opt/z/conf\n' >"$z/DEBIAN/conffiles"
	printf '#!/bin/sh\nexit 0\n' >"$z/DEBIAN/postinst" && chmod 755 "$z/DEBIAN/postinst"
	echo conf >"$z/opt/z/conf"
	echo tool >"$z/usr/bin/ztool" && chmod 4750 "$z/usr/bin/ztool" && chown 0:1234 "$z/usr/bin/ztool"
	ln "$z/usr/bin/ztool" "$z/usr/bin/ztool2"
	chmod 1777 "$z/opt/z/sticky"
	chmod 2775 "$z/opt/z/shared" && chown 1234:5678 "$z/opt/z/shared"
	ln -s ../../usr/bin/ztool "$z/opt/z/link"
	(cd "$z" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$z/DEBIAN/md5sums"
	dpkg-deb -Zzstd --build "$z" "$T/zpkg.deb" >/dev/null 2>"$T/zpkg.err" || { not_ok "dpkg-deb -Zzstd builds the test package"; diag <"$T/zpkg.err"; }
	ZDEB=$T/zpkg.deb
	check "the built package's data member is zstd" sh -c "ar t '$ZDEB' | grep -qx data.tar.zst"
else
	skip "zstd package" "building it needs root (numeric owners)"
	ZDEB=
fi

# Each package alone, against dpkg-deb.
for d in $(for p in "${PKGS[@]}"; do deb "$p"; done) $ZDEB; do
	b=$(basename "$d")
	if "$TOOL" -n -o "$T/$b.tar" "$d" >"$T/$b.info" 2>"$T/$b.err"; then
		check "$b: entries equal dpkg-deb --fsys-tarfile (path, type, mode, owner, size, link)" $PY "$KIT" entries "$d" "$T/$b.tar"
		read -r pkg ver arch ma scripts _ <"$T/$b.info"
		want="$(dpkg-deb --field "$d" Package) $(dpkg-deb --field "$d" Version) $(dpkg-deb --field "$d" Architecture) $(dpkg-deb --field "$d" Multi-Arch)"
		# dpkg-deb prints a missing Multi-Arch as its default, "no"
		same "$b: control fields equal dpkg-deb --field" "$pkg $ver $arch $([[ $ma == - ]] && echo no || echo "$ma")" "$want"
		wants=$(dpkg-deb --ctrl-tarfile "$d" | tar -t | sed 's#^\./##' | grep -xE 'preinst|postinst|prerm|postrm|config|triggers' | LC_ALL=C sort | paste -sd,)
		same "$b: maintainer scripts named" "$(tr , '\n' <<<"$scripts" | grep -v '^-$' | LC_ALL=C sort | paste -sd,)" "$wants"
	else
		not_ok "$b: read"
		diag <"$T/$b.err"
	fi
done
grep -q ' /etc/sudoers=' "$T/$(basename "$(deb sudo)").info" && ok "sudo's conffiles are read with their md5" || not_ok "sudo's conffiles are read with their md5"
check "sudo keeps its setuid bit" sh -c "tar -tvf '$T/$(basename "$(deb sudo)").tar' usr/bin/sudo | grep -q '^-rwsr-xr-x 0/0'"
check "passwd keeps setgid and group shadow (42)" sh -c "tar --numeric-owner -tvf '$T/$(basename "$(deb passwd)").tar' usr/bin/chage | grep -q '^-rwxr-sr-x 0/42'"

# The database over a copy of the suite's Debian root: its dpkg database and
# the top-level merged-/usr symlinks (what dpkg --root reads; the rest of the
# root is not needed by -l, --verify, --audit or -S).
ROOT=$("$TOP_SRCDIR/tests/lib/debian-root.sh" 2>"$T/root.err" | tail -n 1) || ROOT=
NEW=(jq libjq1 libonig5 sudo)
if [[ -n $ROOT && -f $ROOT/var/lib/dpkg/status ]]; then
	D=$T/root
	mkdir -p "$D/var/lib" "$D/usr"
	cp -a "$ROOT/var/lib/dpkg" "$D/var/lib/"
	for l in bin sbin lib lib64; do [[ -L $ROOT/$l ]] && cp -P "$ROOT/$l" "$D/$l"; done
	args=()
	for p in "${NEW[@]}"; do args+=("$(deb "$p")"); done
	[[ -n $ZDEB ]] && args+=("$ZDEB") && NEW+=(zpkg)
	if "$TOOL" -s "$ROOT/var/lib/dpkg/status" -o "$T/layer.tar" "${args[@]}" >/dev/null 2>"$T/layer.err"; then
		tar -xpf "$T/layer.tar" -C "$D"
		check "status: base stanzas byte for byte, one installed stanza per package, sorted" \
			$PY "$KIT" status "$ROOT/var/lib/dpkg/status" "$D/var/lib/dpkg/status" "${NEW[@]}"
		for p in "${NEW[@]}"; do
			d=$( [[ $p == zpkg ]] && echo "$ZDEB" || deb "$p")
			v=$(dpkg-deb --field "$d" Version)
			same "dpkg -l lists $p $v" "$(dpkg --root="$D" -l "$p" | awk '$1 == "ii" { sub(/:amd64$/, "", $2); print $2, $3 }')" "$p $v"
			same "dpkg --verify $p passes" "$(dpkg --root="$D" --verify "$p" 2>&1; echo "rc=$?")" "rc=0"
		done
		same "dpkg --audit is clean" "$(dpkg --root="$D" --audit 2>&1; echo "rc=$?")" "rc=0"
		same "dpkg -S finds jq's file" "$(dpkg --root="$D" -S /usr/bin/jq 2>&1)" "jq: /usr/bin/jq"
		check "Multi-Arch: same packages have PKG:ARCH info files" test -f "$D/var/lib/dpkg/info/libjq1:amd64.list" -a -f "$D/var/lib/dpkg/info/libonig5:amd64.md5sums" -a ! -e "$D/var/lib/dpkg/info/libjq1.list"
		same "jq.list is /. then data.tar's members in order" "$(cat "$D/var/lib/dpkg/info/jq.list")" \
			"$(dpkg-deb --fsys-tarfile "$(deb jq)" | tar -t | sed 's#^\./#/#; s#/$##; s#^$#/.#')"
		same "sudo.conffiles as the package has it" "$(cat "$D/var/lib/dpkg/info/sudo.conffiles")" "$(dpkg-deb --ctrl-tarfile "$(deb sudo)" | tar -xO ./conffiles)"
		check "sudo's Conffiles in status carry each file's md5" sh -c "dpkg-query --admindir='$D/var/lib/dpkg' -W -f='\${Conffiles}' sudo | grep -q ' /etc/sudoers $(dpkg-deb --fsys-tarfile "$(deb sudo)" | tar -xO ./etc/sudoers | md5sum | cut -d' ' -f1)'"
		# dpkg itself installing the same packages into a whole copy of the root
		# (root only: it runs the maintainer scripts in a chroot) writes the same
		# status file and the same info files, byte for byte
		if [[ $(id -u) == 0 ]]; then
			F=$T/full
			cp -a "$ROOT" "$F"
			if dpkg --root="$F" -i "${args[@]}" >"$T/dpkg-i.log" 2>&1; then
				same "status equals dpkg's own, byte for byte" "$(sha256sum <"$F/var/lib/dpkg/status")" "$(sha256sum <"$D/var/lib/dpkg/status")"
				bad=
				for f in $(tar -tf "$T/layer.tar" | grep '^var/lib/dpkg/info/.'); do
					cmp -s "$F/$f" "$D/$f" || bad+=" $f"
				done
				same "every info file equals dpkg's own" "${bad:-none}" none
			else
				not_ok "dpkg --root -i installs the packages"
				tail -n 5 "$T/dpkg-i.log" | diag
			fi
			rm -rf --one-file-system "$F"
		else
			skip "status equals dpkg's own" "dpkg -i into a root copy needs root"
		fi
		"$TOOL" -s "$ROOT/var/lib/dpkg/status" -o "$T/layer2.tar" "${args[@]}" >/dev/null 2>&1
		same "the same packages give the same layer bytes" "$(sha256sum <"$T/layer2.tar")" "$(sha256sum <"$T/layer.tar")"
		"$TOOL" -s "$ROOT/var/lib/dpkg/status" -o "$T/layer3.tar" $(printf '%s\n' "${args[@]}" | tac) >/dev/null 2>&1
		same "another package order gives the same status" "$(tar -xOf "$T/layer3.tar" var/lib/dpkg/status | sha256sum)" "$(tar -xOf "$T/layer.tar" var/lib/dpkg/status | sha256sum)"
	else
		not_ok "the layer with the database"
		diag <"$T/layer.err"
	fi
else
	skip "dpkg database over the Debian root" "no Debian root: $(tail -n1 "$T/root.err" 2>/dev/null)"
fi

# A base without dpkg: status.d, as distroless has it.
if "$TOOL" -d -o "$T/sd.tar" "$(deb jq)" "$(deb libjq1)" >/dev/null 2>"$T/sd.err"; then
	same "status.d holds the control stanza and md5sums per package" \
		"$(tar -tf "$T/sd.tar" | grep '^var/lib/dpkg/' | LC_ALL=C sort | paste -sd' ')" \
		"var/lib/dpkg/ var/lib/dpkg/status.d/ var/lib/dpkg/status.d/jq var/lib/dpkg/status.d/jq.md5sums var/lib/dpkg/status.d/libjq1 var/lib/dpkg/status.d/libjq1.md5sums"
	same "status.d/jq is jq's control file" "$(tar -xOf "$T/sd.tar" var/lib/dpkg/status.d/jq)" "$(dpkg-deb --ctrl-tarfile "$(deb jq)" | tar -xO ./control)"
else
	not_ok "status.d layer"
	diag <"$T/sd.err"
fi

# Refusals: one line naming the package (or file) and the member.
DEB=$(deb jq) $PY "$KIT" craft "$T/bad" || not_ok "craft the bad packages"
expect_error "a ../ path is refused" 'package evil (' "$TOOL" -n -o "$T/x.tar" "$T/bad/dotdot.deb"
expect_error "... naming the member and entry" 'member data.tar.gz: entry "./../evil" escapes' "$TOOL" -n -o "$T/x.tar" "$T/bad/dotdot.deb"
expect_error "an absolute path is refused" 'package evil (' "$TOOL" -n -o "$T/x.tar" "$T/bad/abs-path.deb"
expect_error "a symlink climbing above the root is refused" 'symlink ./usr/up -> ../../etc points above the root' "$TOOL" -n -o "$T/x.tar" "$T/bad/symlink-escape.deb"
expect_error "a file written through an absolute symlink is refused" 'member data.tar.gz: ./etc/root/evil lies below the symlink ./etc/root -> /' "$TOOL" -n -o "$T/x.tar" "$T/bad/below-symlink.deb"
expect_error "debian-binary 3.0 is refused" 'member debian-binary: format version "3.0" is not 2.x' "$TOOL" -n -o "$T/x.tar" "$T/bad/version3.deb"
expect_error "a truncated member is refused" 'package jq (' "$TOOL" -n -o "$T/x.tar" "$T/bad/truncated.deb"
expect_error "... naming the member" 'member data.tar.xz: ' "$TOOL" -n -o "$T/x.tar" "$T/bad/truncated.deb"
expect_error "members out of order are refused" 'member data.tar.gz: unexpected' "$TOOL" -n -o "$T/x.tar" "$T/bad/swapped.deb"
expect_error "a missing data.tar is refused" 'no data.tar member' "$TOOL" -n -o "$T/x.tar" "$T/bad/no-data.deb"
expect_error "a package twice is refused" 'installed twice' "$TOOL" -d -o "$T/x.tar" "$(deb jq)" "$(deb jq)"
check "_-prefixed and trailing members are skipped" "$TOOL" -n -o "$T/x.tar" "$T/bad/extra-members.deb"

# Maintainer-script hints (dk_deb_script_hint), on the amd64/all packages of the suite's local
# repository (tests/lib/deb-repo.sh; those under 1.6 MB and libc6, to stay fast): which of
# preinst/postinst it names is what `dpkg-deb -e` extracts, and what it says follows what the
# scripts really call.
repo=$("$TOP_SRCDIR/tests/lib/deb-repo.sh" 2>"$T/repo.err" | tail -n 1)
if [[ -d $repo/pool ]]; then
	mapfile -t pool < <(find "$repo/pool" \( -name '*_amd64.deb' -o -name '*_all.deb' \) \( -size -1600k -o -name 'libc6_*' \) |
		LC_ALL=C sort)
	if "$TOOL" -n -H -o /dev/null "${pool[@]}" >"$T/hints.out" 2>"$T/hints.err"; then
		want= got=
		for f in "${pool[@]}"; do
			rm -rf "$T/ctl" && mkdir "$T/ctl" && dpkg-deb -e "$f" "$T/ctl"
			p=${f##*/} p=${p%%_*}
			s=$(for x in preinst postinst; do [[ -f $T/ctl/$x ]] && echo "$x"; done | paste -sd,)
			[[ -n $s ]] && want+="$p $s"$'\n'
		done
		got=$(awk '$1 == "hint" { p = $2; sub(/:$/, "", p); s = ""
			if ($0 ~ /: preinst: /) s = "preinst"
			if ($0 ~ /[:;] postinst: /) s = s (s ? "," : "") "postinst"
			print p, s }' "$T/hints.out")
		same "a hint for exactly the packages with a preinst or postinst, naming those scripts ($(grep -c . <<<"$want") of ${#pool[@]})" \
			"$got" "${want%$'\n'}"
		hint() { awk -v p="$1:" '$1 == "hint" && $2 == p { sub(/^hint [^ ]+ /, ""); print }' "$T/hints.out"; }
		same "bsd-mailx: the alternative its postinst installs" "$(hint bsd-mailx)" \
			"maintainer scripts not run, so these may be missing: postinst: alternatives links (update-alternatives mailx)"
		same "tar: rmt's alternative" "$(hint tar)" \
			"maintainer scripts not run, so these may be missing: postinst: alternatives links (update-alternatives rmt)"
		same "python3-yaml: byte-compiling" "$(hint python3-yaml)" \
			"maintainer scripts not run, so these may be missing: postinst: byte-compiled Python (py3compile)"
		same "passwd: the shadow group" "$(hint passwd)" \
			"maintainer scripts not run, so these may be missing: preinst: what it would have done; postinst: users or groups (groupadd)"
		check "exim4-base: its system user (adduser)" grep -q '^hint exim4-base: .*postinst: users or groups (adduser)' "$T/hints.out"
		check "init-system-helpers: a diversion" grep -q '^hint init-system-helpers: .*diversions (dpkg-divert)' "$T/hints.out"
		same "netbase: nothing known, the generic hint" "$(hint netbase)" \
			"maintainer scripts not run, so these may be missing: postinst: what it would have done"
		# words that only look like commands: /etc/adduser.conf, /var/cache/ldconfig/, a comment naming update-alternatives
		same "adduser's preinst edits adduser.conf: no user is named" "$(hint adduser)" \
			"maintainer scripts not run, so these may be missing: preinst: what it would have done"
		check "libc6's preinst removes /var/cache/ldconfig/aux-cache: no ld.so cache" sh -c "! grep -q '^hint libc6: .*ld.so cache' '$T/hints.out'"
		check "dpkg's postinst names update-alternatives in a comment only" sh -c "! grep -q '^hint dpkg: .*alternatives' '$T/hints.out'"
		same "jq: no scripts, no hint" "$(hint jq)" ""
		check "every hint is one printable line" sh -c "! grep '^hint' '$T/hints.out' | LC_ALL=C grep -q '[^[:print:]]'"
	else
		not_ok "the repository's packages read"
		diag <"$T/hints.err"
	fi
else
	skip "maintainer-script hints" "no local repository: $(tail -n1 "$T/repo.err")"
fi

echo "1..$_n"
