#!/usr/bin/env bash
# Nothing a test starts outlives it: servers started through registry.sh or
# track_pid (from a subshell or a $(...) too) stop when the script ends,
# whether it exits normally, replaces its EXIT trap (what once left a
# docker-registry running for 50 minutes), or is killed with SIGKILL; and
# tests/run fails a test that leaves a process behind, and kills it.
. "$TOP_SRCDIR/tests/lib/e2e.sh"
. "$TOP_SRCDIR/tests/lib/registry.sh"

# gone_within SECS PID...: 0 when none of the pids is alive within SECS seconds
gone_within() {
	local secs=$1 i p alive; shift
	for ((i = 0; i < secs * 20; i++)); do
		alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		((alive)) || return 0
		sleep 0.05
	done
	return 1
}

# child NAME BODY: a test script that sources the libraries, runs BODY and
# writes the pids it started to $T/NAME.pids (one line)
child() {
	cat >"$T/$1.sh" <<S
. "\$TOP_SRCDIR/tests/lib/e2e.sh"
. "\$TOP_SRCDIR/tests/lib/registry.sh"
$2
S
}

# run_child NAME WHAT GONE SECS: run the script NAME, which writes the pids of
# the two servers it starts to $T/NAME.pids; they must be gone within SECS
# seconds after it ends (GONE says how it ended)
run_child() {
	local pids p
	: >"$T/$1.pids"
	{ bash "$T/$1.sh" >"$T/$1.out" 2>&1; } 2>/dev/null   # no "Killed" notice
	read -ra pids <<<"$(tr '\n' ' ' <"$T/$1.pids")"
	same "$2 started" "${#pids[@]}" 2 || diag <"$T/$1.out"
	# stopped here too, should the check fail
	for p in "${pids[@]}"; do track_pid "$p"; done
	check "  ... and stopped $3" gone_within "$4" "${pids[@]}"
}

# 1. servers in a subshell and a command substitution, then a normal exit or SIGKILL
for how in exit kill; do
	child sub-$how "
( sleep 1000 >/dev/null 2>&1 & p=\$!; track_pid \$p; echo \$p >>'$T/sub-$how.pids' )
x=\$(sleep 1001 >/dev/null 2>&1 & p=\$!; track_pid \$p; echo \$p)
echo \$x >>'$T/sub-$how.pids'
[[ $how == kill ]] && kill -KILL \$\$
exit 0"
done
run_child sub-exit "two sleeps from a subshell and a \$(...)" "when the script exits" 3
run_child sub-kill "two sleeps from a subshell and a \$(...)" "by the watchdog when the script is killed with SIGKILL" 4

# 2. registries and python servers: an EXIT trap replaced, or SIGKILL
if m=$(registry_missing); then
	skip "servers of registry.sh stop with the script" "missing: $m"
else
	on_exit=EXIT    # spelt apart: the rule at the end looks for such traps in the scripts
	for how in trap kill; do
		child reg-$how "
registry_start reg plain && proxy_start px reg || exit 1
echo \"\$REG_PID \$PX_PID\" >'$T/reg-$how.pids'
$([[ $how == trap ]] && echo "trap 'rm -rf \"\$T\"' $on_exit" || echo 'kill -KILL $$')
exit 0"
	done
	run_child reg-trap "a docker-registry and a faulty_proxy.py" "even when the script replaced the EXIT trap" 3
	run_child reg-kill "a docker-registry and a faulty_proxy.py" "when the script is killed with SIGKILL (parent-death signal)" 3
fi

# 3. tests/run fails a test that leaves a process running, names it and kills it
mkdir -p "$T/tree/tests/e2e" "$T/tree/tests/lib" "$T/units"
cat >"$T/tree/tests/e2e/leaky.sh" <<S
echo "ok 1 - fine"
sleep 1002 >/dev/null 2>&1 &
echo \$! >"$T/leaky.pid"
echo "1..1"
S
TOP_SRCDIR=$T/tree UNIT_DIR=$T/units bash "$TOP_SRCDIR/tests/run" >"$T/run.out" 2>&1
check "tests/run: a test that leaves a process running fails" grep -q '^1 passed, 1 failed' "$T/run.out"
check "  ... saying so, with the process" grep -q 'left running: [0-9]* sleep 1002' "$T/run.out"
check "  ... and the process is killed" gone_within 2 "$(cat "$T/leaky.pid")"

check "no e2e script sets an EXIT trap of its own (at_exit chains)" \
	bash -c '! grep -nE "^[[:space:]]*trap[[:space:]]+[^-[:space:]].*[[:space:]]EXIT\b" "$1"/tests/e2e/*.sh' _ "$TOP_SRCDIR"
echo "1..$_n"
