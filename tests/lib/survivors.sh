#!/usr/bin/env bash
# tests/lib/survivors.sh NAME=VALUE [--kill]: the processes whose environment
# holds NAME=VALUE, one "PID COMMAND LINE" a line; with --kill they are
# killed (SIGKILL) too.  Exit 0 when there were none, 1 otherwise.
#
# tests/run marks each test and .ci/run the whole suite with such a variable:
# whatever carries it after they end was started by them and outlived them
# (daemonised, in another process group, or reparented alike).
set -u
mark=${1:?usage: survivors.sh NAME=VALUE [--kill]}
found=0
for f in $(grep -lzxF -- "$mark" /proc/[0-9]*/environ 2>/dev/null); do
	pid=${f#/proc/}
	pid=${pid%/environ}
	[[ $pid == "$$" ]] && continue
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
	[[ -n $cmd ]] || continue    # gone meanwhile, or a zombie
	echo "$pid $cmd"
	found=1
	[[ ${2:-} == --kill ]] && kill -KILL "$pid" 2>/dev/null
done
exit $found
