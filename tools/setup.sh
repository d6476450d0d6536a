#!/usr/bin/env bash
# StreamVision set-up: installs what the build and tests need, fetches the default models, builds the native
# shim and the solution (NuGet restore brings ONNX Runtime, OpenCvSharp and the rest). Idempotent: a second run
# checks and returns in seconds.
#
#   tools/setup.sh [--gpu|--cpu] [--no-build] [--quiet] [--training]
#     --gpu  build against ONNX Runtime's GPU packages (CUDA 13 + cuDNN 9, TensorRT 10; CPU when they are missing)
#     --cpu  back to the CPU package (the default). The choice is remembered in .deps/ort-flavour.
#     --training  also install Debian's PyTorch: the training tools (tools/train-*) and the bench's YOLO workload
#                 (tools/make-yolo-workload); tests never need it
#
# npm downloads are cached outside the clone in ${XDG_CACHE_HOME:-~/.cache}/streamvision (keyed by package and
# version), NuGet's in its own cache, so a fresh clone extracts from the caches. Everything fetched or built
# lands in .deps/ (git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.env
source "$ROOT/tools/versions.env"
DEPS="$ROOT/.deps"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/streamvision"
FLAVOUR=""
BUILD=1
QUIET=0
TRAINING=0
for arg in "$@"; do
  case "$arg" in
    --gpu) FLAVOUR=gpu ;;
    --cpu) FLAVOUR=cpu ;;
    --no-build) BUILD=0 ;;
    --quiet) QUIET=1 ;;
    --training) TRAINING=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "setup: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

say() { [ "$QUIET" = 1 ] || echo "setup: $*" >&2; }
die() { echo "setup: error: $*" >&2; exit 1; }
START=$(date +%s)

# ---- Debian packages --------------------------------------------------------------------------
missing=()
# npm fetches ONNX Runtime and the models; Debian's own nodejs/npm do when the machine has none.
command -v npm >/dev/null || missing+=(nodejs npm)
want="$APT_PACKAGES"
[ "$TRAINING" = 1 ] && want="$want $TRAINING_APT_PACKAGES"
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
    SUDO="sudo"
  fi
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed for: ${missing[*]}"
fi

# ---- npm packages (npm pack only: install scripts never run) ----------------------------------
# fetch NAME VERSION -> prints the cached tarball path
fetch() {
  local name="$1" version="$2" tgz="$CACHE/npm/$1-$2.tgz"
  if [ ! -s "$tgz" ]; then
    command -v npm >/dev/null || die "npm is needed to fetch $name@$version (install nodejs/npm)"
    mkdir -p "$CACHE/npm"
    say "downloading $name@$version"
    local tmp
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null 2>&1) || { rm -rf "$tmp"; die "npm pack $name@$version failed"; }
    mv "$tmp"/*.tgz "$tgz.part" && mv "$tgz.part" "$tgz"
    rm -rf "$tmp"
  fi
  echo "$tgz"
}

# extract TARBALL DEST STAMP [patterns...] : re-extracts only when STAMP changes
extract() {
  local tgz="$1" dest="$2" stamp="$3"
  shift 3
  if [ -f "$dest/.stamp" ] && [ "$(cat "$dest/.stamp")" = "$stamp" ]; then return 0; fi
  rm -rf "$dest"
  mkdir -p "$dest"
  tar -xzf "$tgz" -C "$dest" --wildcards "$@" || die "cannot extract $tgz"
  echo "$stamp" > "$dest/.stamp"
}

# ---- ONNX Runtime flavour (NuGet packages; Directory.Build.props reads .deps/ort-flavour) ----------------
mkdir -p "$DEPS"
if [ -n "$FLAVOUR" ] && [ "$(cat "$DEPS/ort-flavour" 2>/dev/null)" != "$FLAVOUR" ]; then
  echo "$FLAVOUR" > "$DEPS/ort-flavour"
  say "ONNX Runtime flavour: $FLAVOUR (the solution is rebuilt)"
fi
[ -f "$DEPS/ort-flavour" ] || echo cpu > "$DEPS/ort-flavour"
[ "$(cat "$DEPS/ort-flavour" 2>/dev/null || echo cpu)" = gpu ] && say "GPU build: CUDA and TensorRT are used when this machine has CUDA 13, cuDNN 9 and TensorRT 10 (see ./streamvision version)"

BF_TGZ="$(fetch "$BLAZEFACE_NPM_PACKAGE" "$BLAZEFACE_NPM_VERSION")"
extract "$BF_TGZ" "$DEPS/blazeface" "$BLAZEFACE_NPM_PACKAGE@$BLAZEFACE_NPM_VERSION" 'package/ONNX/*.onnx' 'package/LICENSE*'
mkdir -p "$DEPS/models"
for f in "$DEPS"/blazeface/package/ONNX/*.onnx; do
  ln -sf "$f" "$DEPS/models/$(basename "$f")"
done

# ---- native shim -------------------------------------------------------------------------------
NATIVE_SRC="$ROOT/src/Native/native"
NATIVE_OUT="$DEPS/native"
if [ ! -f "$NATIVE_OUT/libsvnative.so" ] || [ -n "$(find "$NATIVE_SRC" -newer "$NATIVE_OUT/libsvnative.so" -type f | head -1)" ]; then
  say "building the native shim (FFmpeg: libavformat $(pkg-config --modversion libavformat))"
  mkdir -p "$NATIVE_OUT/build"
  cmake -S "$NATIVE_SRC" -B "$NATIVE_OUT/build" -DCMAKE_BUILD_TYPE=Release >"$NATIVE_OUT/cmake.log" 2>&1 \
    || { cat "$NATIVE_OUT/cmake.log" >&2; die "cmake configure failed"; }
  cmake --build "$NATIVE_OUT/build" -j"$(nproc)" >"$NATIVE_OUT/build.log" 2>&1 \
    || { cat "$NATIVE_OUT/build.log" >&2; die "native shim build failed"; }
  cp "$NATIVE_OUT/build/libsvnative.so" "$NATIVE_OUT/libsvnative.so.tmp"
  mv "$NATIVE_OUT/libsvnative.so.tmp" "$NATIVE_OUT/libsvnative.so"
fi

# ---- .NET solution -----------------------------------------------------------------------------
# Up to date when the last successful build is newer than every source, project and props file (and the shim).
stale() {
  local stamp="$DEPS/.built"
  [ -f "$stamp" ] || return 0
  [ -f "$ROOT/src/App/bin/Release/net10.0/streamvision.dll" ] || return 0
  [ -n "$(find "$ROOT/src" "$ROOT/tests" "$ROOT/Directory.Build.props" "$ROOT/Directory.Packages.props" "$ROOT/StreamVision.sln" \
            "$NATIVE_OUT/libsvnative.so" "$DEPS"/ort-flavour \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.sln' -o -name '*.so' -o -name ort-flavour \
            -o -name '*.html' -o -name '*.py' \) -newer "$stamp" -not -path '*/obj/*' -not -path '*/bin/*' -print -quit)" ]
}

if [ "$BUILD" = 1 ] && stale; then
  command -v dotnet >/dev/null || die "the .NET SDK (dotnet) is required"
  say "building the solution (Release)"
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
  dotnet build "$ROOT/StreamVision.sln" -c Release -v q -nologo -clp:ErrorsOnly >"$DEPS/dotnet-build.log" 2>&1 \
    || { grep -E "error|Error" "$DEPS/dotnet-build.log" | sort -u >&2; die "dotnet build failed (full log: .deps/dotnet-build.log)"; }
  date +%s > "$DEPS/.built"
fi

# OpenCvSharp's native library (from NuGet) needs Debian libraries (APT_PACKAGES above): name any that is missing.
OCV_SO="$ROOT/src/App/bin/Release/net10.0/runtimes/linux-x64/native/libOpenCvSharpExtern.so"
if [ -f "$OCV_SO" ]; then
  notfound="$(ldd "$OCV_SO" | awk '/not found/{print $1}' | tr '\n' ' ')"
  [ -z "$notfound" ] || die "libOpenCvSharpExtern.so cannot load, missing: $notfound(install their Debian packages)"
fi
# The launcher's start-up fast path skips this script while this stamp is newer than every input (see ./streamvision).
[ "$BUILD" = 1 ] && touch "$DEPS/.ready"
say "ready in $(( $(date +%s) - START )) s"
