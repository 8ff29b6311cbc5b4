#!/usr/bin/env bash
# Installs what the sentry needs to build and test on Debian 12, then configures and
# builds it into build/ (or $BUILD_DIR). Run as root; safe to run again: packages that
# are already installed are not fetched, and the build is incremental.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir=${BUILD_DIR:-build}
packages=(
    build-essential cmake pkg-config clang libclang-rt-dev # clang: the policy fuzz test (libFuzzer)
    libseccomp-dev libboost-dev libcli11-dev nlohmann-json3-dev catch2 libfmt-dev
    busybox-static python3 coreutils bash tmux nodejs # used by the end-to-end tests
    # Real servers and clients for the netstack's tests (tests/net_real.cmake). The tests
    # start their own redis-server on a port of their choosing; the package's own service
    # (port 6379) is never used, so whether apt starts it or not does not matter.
    redis-server redis-tools curl
)

missing=()
for p in "${packages[@]}"; do
    if [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) != ii* ]]; then
        missing+=("$p")
    fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup.sh: missing packages (${missing[*]}); run me as root to install them" >&2
        exit 1
    fi
    echo "setup.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
else
    echo "setup.sh: all packages already installed"
fi

echo "setup.sh: building into $build_dir/"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j2
