# tests/lib/pause.sh - drive derrick's test pause hooks (DERRICK_TEST_PAUSE_FIFO,
# include/derrick/layer.h; DERRICK_TEST_PAUSE_WALK_FIFO, walk.h): a build started in the
# background with the hook's variable naming $FIFO holds at each pause until the script
# has done what it does there, so a source changes at a known moment, never by a race.
#
# Source after tests/lib/e2e.sh; export FIFO (a fifo made with mkfifo) and whatever the
# commands run at the pauses use.
#
#   (build ... ; echo $? >"$T/.rc") &
#   pause_through $! 'rm "$P/src/x"' ':'      # at the first pause, then at the second
#   rc=$(cat "$T/.rc")

# at_pause CMD: wait (30 s at most) until the build has the fifo open (opening it for writing
# blocks until then), run CMD, let the build go on.  The fifo is made anew before the build
# is let go: its next pause then opens the new one, which no one has open, and so cannot
# be taken for this one.
at_pause() {
	timeout 30 bash -c 'exec 3>"$FIFO" && eval "$1" && rm "$FIFO" && mkfifo "$FIFO" && echo go >&3' _ "$1" ||
		echo "# the build never reached the pause for: $1"
}

# pause_through PID CMD1 CMD2: CMD1 at the first pause, CMD2 (when not empty) at the second,
# then wait for PID
pause_through() {
	at_pause "$2"
	[[ -z $3 ]] || at_pause "$3"
	wait "$1"
}
