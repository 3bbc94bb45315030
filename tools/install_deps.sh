#!/usr/bin/env bash
# Installs the Debian 12 packages the suite needs, only those missing (needs root or sudo).
# The reasons for each package: README.md (what it is) and jobs/README.md (cluster notes).
set -euo pipefail
pkgs=(openmpi-bin libopenmpi-dev libblis-dev libscalapack-openmpi-dev libhdf5-openmpi-dev hdf5-tools
      libcunit1-dev libcjson-dev libutf8proc-dev pkg-config slurm-wlm munge sentencepiece libsentencepiece-dev
      gnuplot-nox make gcc g++ python3 clang libclang-rt-dev  # clang: make fuzz (libFuzzer)
      clang-format git  # tests/shell/test_style.sh (make format); git: the tools list tracked files
      iproute2 util-linux  # ip, tc, unshare: the simulated nodes of tests/shell/test_multinode.sh
      python3-numpy)  # tests/shell/test_forward_npy.sh opens forward's .npy outputs with numpy.load
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "deps: all ${#pkgs[@]} packages present"; exit 0; fi
echo "deps: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
