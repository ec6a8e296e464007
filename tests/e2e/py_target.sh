#!/usr/bin/env bash
# The Python target logic of src/python/ (versions, specifiers, the ordered
# tag list, wheel file names, markers) against Debian's python3-packaging
# 23.0: tests/lib/py_oracle.py asks both the same questions, through
# tests/lib/pyprobe (a test program, not a derrick command).
. "$TOP_SRCDIR/tests/lib/e2e.sh"

probe=${UNIT_DIR:?}/../lib/pyprobe
if [[ ! -x /usr/bin/python3 ]] || ! /usr/bin/python3 -c 'import packaging' 2>/dev/null; then
	skip "python3-packaging oracle" "Debian's /usr/bin/python3 with python3-packaging is not installed"
	echo "1..$_n"
	exit 0
fi
/usr/bin/python3 "$TOP_SRCDIR/tests/lib/py_oracle.py" "$probe"
