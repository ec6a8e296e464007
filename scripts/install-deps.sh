#!/usr/bin/env bash
# Install what derrick needs on Debian or Ubuntu, skipping what is there.
#   scripts/install-deps.sh          build and test dependencies
#   scripts/install-deps.sh --build  only what building derrick needs
# Runs apt-get through sudo when not root.
set -euo pipefail

build=(build-essential autoconf automake pkg-config git
       libarchive-dev libssl-dev libcurl4-openssl-dev libjansson-dev zlib1g-dev libzstd-dev libdeflate-dev
       g++ libtomlplusplus-dev)   # pylock.toml: one C++ file wraps toml++
# The test suite checks derrick's output with independent tools and real data.
test=(python3 skopeo umoci podman runc oci-image-tool debootstrap util-linux
      docker-registry apache2-utils openssl curl
      clang libclang-rt-14-dev    # make fuzz: libFuzzer
      python3-packaging python3-installer python3-setuptools python3-wheel
      python3-pip-whl python3-setuptools-whl python3-wheel-whl    # wheel oracles and test wheels
      apt-utils gpg gpgv)         # the local Debian repositories (tests/lib/deb-repo.sh)

pkgs=("${build[@]}")
[[ ${1:-} == --build ]] || pkgs+=("${test[@]}")

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	echo "install-deps: everything is installed"
	exit 0
fi
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
