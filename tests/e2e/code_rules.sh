#!/usr/bin/env bash
# The shape of the code, checked (issue #8).  Families of kinds (layer
# sources, transports, compressors, sink stages) are tables: only the file
# that holds a table names a kind in a comparison or calls a row's
# callbacks; everyone else goes through its wrapper functions.  Then a new
# kind is one new file and one table row, never a hunt for `if` chains.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

cd "$TOP_SRCDIR/src" || exit 1
# The files that hold a table and the wrappers around it.
tables=(source/table.c layer/compress.c layer/sink.c transport/transport.c)
is_table() { local f; for f in "${tables[@]}"; do [[ $1 == "$f" ]] && return 0; done; return 1; }

kinds='"(oci|docker|tar|gzip|zstd|oci-archive|docker-archive)(:|://)?"'
compare="(str(n)?(case)?cmp|memcmp|strstr)[[:space:]]*\\([^;]*$kinds|$kinds[[:space:]]*(==|!=)|(==|!=)[[:space:]]*$kinds"
callback='(->|[^a-z_])(ops|kind|transport)->[a-z_]+[[:space:]]*\('
bad_cmp=() bad_call=()
while IFS= read -r -d '' f; do
	f=${f#./}
	while IFS= read -r hit; do bad_cmp+=("$f:$hit"); done < <(grep -nE "$compare" "$f")
	is_table "$f" && continue
	while IFS= read -r hit; do bad_call+=("$f:$hit"); done < <(grep -nE -- "$callback" "$f")
done < <(find . -name '*.c' -print0 | sort -z)

if ((${#bad_cmp[@]} == 0)); then ok "no kind name is compared anywhere in src/"
else not_ok "no kind name is compared anywhere in src/"; printf '%s\n' "${bad_cmp[@]}" | diag; fi
if ((${#bad_call[@]} == 0)); then ok "no row callback (->ops->, kind->, transport->) is called outside the table files"
else not_ok "no row callback (->ops->, kind->, transport->) is called outside the table files"; printf '%s\n' "${bad_call[@]}" | diag; fi

# The checks must bite: planted comparisons and calls are found.
cat >"$T/planted.c" <<'C'
if (!strcmp(ref->transport->name, "docker")) d->ops->commit(d);
if (strncmp(s, "oci:", 4) == 0) x = 1;
dec = kind->decompress(hash, blob);
C
same "the check finds planted comparisons" "$(grep -cE "$compare" "$T/planted.c")" 2
same "the check finds planted callback calls" "$(grep -cE -- "$callback" "$T/planted.c")" 2

# No exit() or abort() below the command line: library code reports errors
# through struct dk_err.  The one exception is dk_oom's last resort, behind
# the out-of-memory handler the application installs (util.h says why).
exits='(^|[^_a-z])(exit|abort)[[:space:]]*\('
lib_exits=$(grep -rnE "$exits" --include='*.c' . | grep -v '^\./cli/' | grep -vE '_exit\(|dk_sha256_abort' |
	grep -v '^\./base/util\.c:')
if [[ -z $lib_exits ]]; then ok "no exit() or abort() in library code"
else not_ok "no exit() or abort() in library code"; echo "$lib_exits" | diag; fi
same "base/util.c: one abort(), in dk_oom, after the application's handler" \
	"$(awk -v re="$exits" '/^void dk_oom\(/ { f = 1 } $0 ~ re { print (f ? "dk_oom" : "elsewhere") } f && /^}/ { f = 0 }' base/util.c)" "dk_oom"
echo "1..$_n"
