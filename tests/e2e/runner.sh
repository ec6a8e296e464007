#!/usr/bin/env bash
# The test runner's own rules, checked on planted tests: a test that shows
# what printf makes of a NULL string fails, with a line that says so, even
# when all its cases pass; the e2e helpers show it from captured output.
. "$TOP_SRCDIR/tests/lib/e2e.sh"

null='(nu''ll)'         # never in this script's own output
mkdir -p "$T/tree/tests/e2e" "$T/tree/tests/lib" "$T/tree/tests/unit"
cp "$TOP_SRCDIR/tests/run" "$T/tree/tests/"
cp "$TOP_SRCDIR/tests/lib/e2e.sh" "$TOP_SRCDIR/tests/lib/survivors.sh" "$T/tree/tests/lib/"
cat >"$T/tree/tests/e2e/direct.sh" <<EOF
echo "ok 1 - created: $null"
echo "1..1"
EOF
cat >"$T/tree/tests/e2e/captured.sh" <<EOF
. "\$TOP_SRCDIR/tests/lib/e2e.sh"
check "a command whose output shows it" printf 'platform: %s/%s\n' '$null' '$null'
echo "1..\$_n"
EOF
cat >"$T/tree/tests/e2e/clean.sh" <<'EOF'
. "$TOP_SRCDIR/tests/lib/e2e.sh"
check "a command with ordinary output" printf 'platform: linux/amd64\n'
echo "1..$_n"
EOF
TOP_SRCDIR=$T/tree UNIT_DIR=$T/tree/tests/unit bash "$T/tree/tests/run" >"$T/run.out" 2>&1
rc=$?
differ "the run fails" "$rc" 0
for name in direct captured; do
	check "a test that prints it in a TAP line fails: $name" grep -qE "^e2e/$name +1 passed, 1 failed" "$T/run.out"
	check "  ... with a line that says why: $name" \
		grep -qF "not ok - e2e/$name printed \"$null\": a NULL reached a printf %s" "$T/run.out"
done
check "a clean test passes" grep -qE "^e2e/clean +1 passed, 0 failed" "$T/run.out"
same "the totals" "$(tail -n 1 "$T/run.out")" "3 passed, 2 failed, 0 skipped"
echo "1..$_n"
