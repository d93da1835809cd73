#!/usr/bin/env bash
# Packs what the GPU benchmark needs on a machine with Python's torch but no Java, no Maven and no
# network (the approach of ../shared/gpu-kit): a jlinked JRE 17 with jni.h, the project's jars and
# their runtime dependencies without DJL's native/JNI jars (the JNI is built there against the
# machine's torch by deploy/gpu/build-jni.sh), and the tiny parity checkpoint. The folder holds
# payload.tar.xz plus the scripts; it must stay under 64 MiB (checked).
#
#   bench/gpu/pack.sh [--out DIR] [--jre DIR]     (default DIR: .gpubench, git-ignored)
# Then on the GPU machine, from the repository root: OUT=/some/dir bench/gpu/run.sh --pack .gpubench
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUTDIR="$ROOT/.gpubench"
JRE=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --out) OUTDIR=${2:?--out needs a folder}; shift 2 ;;
    --jre) JRE=${2:?--jre needs a folder}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "pack: unknown option $1" >&2; exit 2 ;;
  esac
done
LIMIT=$((64 * 1024 * 1024))
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
P="$STAGE/payload"
mkdir -p "$P/lib" "$P/fixture"

echo "pack: building perl-common and perl-model jars (offline, no tests)"
(cd "$ROOT" && mvn -B -o -q package -pl perl-model -am -DskipTests)
cp "$ROOT"/perl-common/target/perl-common-*.jar "$ROOT"/perl-model/target/perl-model-*.jar "$P/lib/"
rm -f "$P"/lib/*-sources.jar "$P"/lib/*-tests.jar
(cd "$ROOT" && mvn -B -o -q dependency:copy-dependencies -pl perl-model -DincludeScope=runtime \
  -DexcludeArtifactIds=pytorch-native-cpu,pytorch-jni,tokenizers,perl-common \
  -DoutputDirectory="$P/lib")
# a logger binding so DJL's library loading is visible in the GPU log
SIMPLE=$(ls ~/.m2/repository/org/slf4j/slf4j-simple/*/slf4j-simple-*.jar 2>/dev/null | grep -v sources | tail -1 || true)
[[ -n $SIMPLE ]] && cp "$SIMPLE" "$P/lib/"

if [[ -n $JRE ]]; then
  cp -r "$JRE" "$P/jre"
else
  JAVA_HOME=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
  echo "pack: jlink a JRE from $JAVA_HOME"
  "$JAVA_HOME/bin/jlink" --add-modules java.se,jdk.unsupported,jdk.zipfs,jdk.crypto.ec \
    --strip-debug --no-man-pages --no-header-files --compress=2 --output "$P/jre"
  cp -r "$JAVA_HOME/include" "$P/jre/include"  # jni.h for the JNI build
fi
[[ -f $P/jre/include/jni.h ]] || { echo "pack: the JRE lacks include/jni.h" >&2; exit 1; }

cp "$ROOT"/perl-model/src/test/resources/qwen25vl/tiny-tied/{config.json,generation_config.json,model.safetensors} "$P/fixture/"
git -C "$ROOT" rev-parse HEAD > "$P/COMMIT" 2>/dev/null || echo unknown > "$P/COMMIT"

rm -rf "$OUTDIR"
mkdir -p "$OUTDIR"
tar -C "$STAGE" -cJf "$OUTDIR/payload.tar.xz" payload
size=$(du -sb "$OUTDIR" | cut -f1)
echo "pack: $OUTDIR holds $(ls "$P/lib" | wc -l) jars + JRE + fixture: $size bytes ($((size / 1024 / 1024)) MiB; limit 64 MiB)"
if [[ $size -gt $LIMIT ]]; then
  echo "pack: over the 64 MiB a GPU run may carry" >&2
  exit 1
fi
