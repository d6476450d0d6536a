#!/usr/bin/env bash
# Decode benchmark (not a test): in-process decode + BGR24 conversion vs `ffmpeg -threads T -i FILE -pix_fmt bgr24 -f null -`.
#
#   tools/bench-decode.sh [FILE] [--threads T] [--runs N]
#
# Without FILE it makes a 10 s 1080p H.264 clip (testsrc2, libx264 veryfast) in the set-up cache and uses that.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/streamvision/bench"
FILE=""
if [ $# -gt 0 ] && [[ "$1" != --* ]]; then FILE="$1"; shift; fi
if [ -z "$FILE" ]; then
  mkdir -p "$CACHE"
  FILE="$CACHE/testsrc2-1080p25-h264-10s.mp4"
  if [ ! -s "$FILE" ]; then
    echo "bench: making $FILE" >&2
    ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1920x1080:rate=25 -t 10 \
      -c:v libx264 -preset veryfast -pix_fmt yuv420p "$FILE.tmp.mp4"
    mv "$FILE.tmp.mp4" "$FILE"
  fi
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build "$ROOT/tools/DecodeBench" -c Release -v q -nologo -clp:ErrorsOnly >/dev/null
exec dotnet "$ROOT/tools/DecodeBench/bin/Release/net10.0/DecodeBench.dll" "$FILE" "$@"
