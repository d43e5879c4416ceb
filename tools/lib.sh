# tools/lib.sh - shared by tools/run and tools/test: install what is missing, build.
# Sourced, not run.  Every dependency synack needs is installed here, never by hand.

SYNACK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages the build, the lab and the tests use.
SYNACK_PACKAGES=(
  gcc make cmake pkg-config             # build
  libpcap-dev libxxhash-dev             # the library's dependencies
  libcmocka-dev                         # unit tests
  tcpdump tshark                        # golden, differential and live tests
  python3                               # test scripts
  iproute2 ethtool iptables procps      # network namespaces, ss, offloads, loss
  chromium fonts-dejavu-core            # the HTML report test (headless)
  clang libclang-rt-14-dev llvm         # libFuzzer harnesses (tools/fuzz), symbolized traces
)

# Packages only the benchmarks use (tools/bench installs them).
SYNACK_BENCH_PACKAGES=(time valgrind tcptrace iperf3)

# synack_install_packages PKG...: apt-get install those not installed yet (as root).
synack_install_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "synack: missing packages: ${missing[*]} (run as root so tools/ can apt-get install them)" >&2
    return 1
  fi
  echo "synack: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

synack_install_deps() {
  synack_install_packages "${SYNACK_PACKAGES[@]}"
}

# synack_build DIR [cmake args...]: configure once, then build incrementally.
synack_build() {
  local dir=$1
  shift
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S "$SYNACK_ROOT" -B "$dir" "$@" >/dev/null
  fi
  cmake --build "$dir" -j"$(nproc)" -- --no-print-directory >/dev/null
}
