#!/usr/bin/env bash
# Link rootfs to a Debian 12 root with the full Python 3.11 (the test suite's
# cached debootstrap, built once from the apt mirror), the layer below the
# wheels.  The wheels themselves come from /usr/share/python-wheels
# (apt-get install python3-pip-whl python3-setuptools-whl python3-wheel-whl).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(DERRICK_DEBIAN_PACKAGES=python3 bash "$here/../../tests/lib/debian-root.sh" | tail -n1)
ln -sfn "$root" "$here/rootfs"
echo "rootfs -> $root"
