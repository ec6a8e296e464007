#!/usr/bin/env bash
# The README's first command: install what is missing, build derrick, and
# assemble the bundled example app into ./out (an OCI image layout).
# No container registry, no daemon; apt-get fetches the Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
[[ -x configure ]] || autoreconf -fi
[[ -f Makefile ]] || ./configure
make -j"$(nproc)"

examples/python-app/make-site-packages.sh >/dev/null
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0} \
	./derrick build -f examples/python-app/derrick.json --version 0.1.0 -o oci:out:latest
echo
./derrick inspect oci:out:latest
echo
echo "The image is in ./out (an OCI layout). Try: skopeo inspect oci:out:latest"
