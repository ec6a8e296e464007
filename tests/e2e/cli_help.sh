#!/usr/bin/env bash
# The help cannot drift from the parser: for every command, each long option
# the parser takes is listed exactly once in --help and named in the usage
# lines, the help lists nothing else, and the parser takes every option the
# help lists.  OPTIONS below pins each command's options: a flag added to a
# table is added here too, a flag that disappears fails here.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

registry="creds authfile tls-verify cert-dir cache-dir jobs chunk-size retries"
declare -A OPTIONS=(
	[build]="file target version version-from-git platform compression compression-level gzip-level
		 no-cache cache-repo cache-mode cache-verify output json digest-file created quiet verbose help $registry"
	[inspect]="platform json help $registry"
	[diff]="platform json help $registry"
	[ls]="layer merged platform json help $registry"
	[verify]="quiet verbose help $registry"
	[pull]="output platform json quiet verbose help $registry"
	[push]="digest-file platform json quiet verbose help $registry"
	[login]="username password-stdin quiet verbose help $registry"
	[logout]="authfile help"
	[cache prune]="max-size help $registry"
	[lock]="file platform no-cache quiet verbose help $registry"
)

sorted() { tr -s ' \t\n' '\n' <<<"$1" | sed '/^$/d' | LC_ALL=C sort; }

for cmd in build inspect diff ls verify pull push login logout "cache prune" lock; do
	# shellcheck disable=SC2086 # "cache prune" is two words
	"$DERRICK" $cmd --help >"$T/help" 2>"$T/help.err"; rc=$?
	check "$cmd --help: exit 0, nothing on stderr" test "$rc" -eq 0 -a ! -s "$T/help.err"
	# the usage lines end at the first blank line; the option list is every
	# line that starts with an option (a help text may name other options)
	synopsis=$(sed '/^$/q' "$T/help")
	listed=$(grep -oE '^(  -[[:alnum:]], |      )--[a-z0-9-]+' "$T/help" | sed 's/.*--//')
	same "$cmd --help lists each of its options once, and no other" \
		"$(sorted "$listed" | tr '\n' ' ')" "$(sorted "${OPTIONS[$cmd]}" | tr '\n' ' ')"

	missing= refused=
	for name in ${OPTIONS[$cmd]}; do
		grep -qE -- "--$name([^a-z0-9-]|\$)" <<<"$synopsis" || missing+=" --$name"
		# an option the parser knows is used or refused for its value; the
		# unknown option after it stops the command before it does anything
		# shellcheck disable=SC2086
		"$DERRICK" $cmd "--$name=1" --zz-no-such-option >/dev/null 2>"$T/probe.err"
		grep -qF -- "unrecognized option '--$name" "$T/probe.err" && refused+=" --$name"
	done
	same "$cmd: the usage lines name every option" "$missing" ""
	same "$cmd: the parser takes every option the help lists" "$refused" ""

	short_missing=
	while read -r letter name; do
		grep -qF -- "-$letter|--$name" <<<"$synopsis" || short_missing+=" -$letter|--$name"
	done < <(sed -nE 's/^  -([[:alnum:]]), --([a-z0-9-]+).*/\1 \2/p' "$T/help")
	same "$cmd: the usage lines give each short option with its long one" "$short_missing" ""

	# shellcheck disable=SC2086
	"$DERRICK" $cmd --zz-no-such-option >/dev/null 2>"$T/probe.err"; rc=$?
	same "$cmd refuses an option it does not have (exit 2, the help on stderr)" \
		"$rc $(grep -cF -- "unrecognized option '--zz-no-such-option'" "$T/probe.err") $(grep -c '^usage: ' "$T/probe.err")" \
		"2 1 1"
done

# the two faults the table replaced: build's synopsis without --compression, and --jobs listed twice
"$DERRICK" build --help >"$T/help"
check "build: the synopsis has --compression" grep -qF -- '[--compression gzip|zstd]' <(sed '/^$/q' "$T/help")
same "build: --jobs is described once" "$(grep -cE '^ +--jobs ' "$T/help")" "1"

echo "1..$_n"
