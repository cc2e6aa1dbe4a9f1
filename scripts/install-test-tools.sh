#!/usr/bin/env bash
# Installs the system tools the test suite uses (Debian packages), so that no test has to skip:
#   emscripten        emcc, to check that wasm/parser.wasm is rebuilt identically from wasm/src
#   clang, libclang-rt-14-dev   native parser tests under ASan/UBSan and the libFuzzer target
#   wrk               HTTP load generator (benchmarks, load tests)
#   nginx-light       the "behind nginx over a unix socket" scenario
#   libserver-starter-perl      Server::Starter's start_server, for the hot-deploy scenario
# Needs root (or sudo). Safe to run again: apt-get skips what is installed.
set -euo pipefail
PKGS=(emscripten clang libclang-rt-14-dev wrk nginx-light libserver-starter-perl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-tools: all present (${PKGS[*]})"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-test-tools: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
