#!/usr/bin/env bash
# Runs the GPU benchmark (io.perlspark.model.bench.QwenGpuBench) and writes $OUT/bench.jsonl (one
# JSON object per phase), $OUT/bench.log and $OUT/summary.txt.
#
# Here, from Maven's classpath (CPU; the tiny config unless told otherwise):
#   bench/gpu/run.sh [bench options]                 e.g. --config tiny --device cpu --prompts 4
# On a GPU machine that has only Python's torch, from the folder bench/gpu/pack.sh made:
#   OUT=/some/dir bench/gpu/run.sh --pack .gpubench [bench options]
#   (defaults: --config 3b --device gpu, the issue's shapes, parity on the packed tiny checkpoint)
#   There it unpacks the JRE and jars, builds DJL's JNI against that torch (deploy/gpu/build-jni.sh,
#   bf16 included), sources the env it writes, and runs the bench within BENCH_BUDGET seconds (280).
# Env: OUT (default bench/gpu/out), PYTHON (a python with torch; default python3, then
# /opt/torch/.venv/bin/python3), BENCH_BUDGET, BENCH_XMX (JVM heap, default 16g on GPU, 2g here),
# BENCH_WORK (scratch for the pack mode, default /tmp/perl-gpubench).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT=${OUT:-$ROOT/bench/gpu/out}
BUDGET=${BENCH_BUDGET:-280}
PACK=""
if [[ ${1:-} == --pack ]]; then
  PACK=${2:?--pack needs the folder bench/gpu/pack.sh wrote}
  shift 2
fi
mkdir -p "$OUT"
LOG="$OUT/bench.log"
JSONL="$OUT/bench.jsonl"
SUMMARY="$OUT/summary.txt"
: > "$JSONL"
: > "$SUMMARY"
START=$(date +%s)
left() { echo $((BUDGET - $(date +%s) + START)); }
say() { echo "[+$(( $(date +%s) - START ))s] $*" | tee -a "$LOG" >&2; }

summarise() {
  local rc=$1
  {
    echo "bench rc=$rc ($(( $(date +%s) - START )) s)"
    # one line per phase: its numbers, without the repeated fields
    sed -E 's/"(bench|config|device|dtype|memory_kind)":"[^"]*",?//g' "$JSONL"
  } >> "$SUMMARY"
  cat "$SUMMARY"
}

if [[ -z $PACK ]]; then
  say "local run: building perl-model (offline) and resolving its classpath"
  (cd "$ROOT" && mvn -B -o -q compile -pl perl-model -am) >> "$LOG" 2>&1 || { say "build failed (see $LOG)"; exit 1; }
  CPFILE=$(mktemp)
  (cd "$ROOT" && mvn -B -o -q dependency:build-classpath -pl perl-model -Dmdep.includeScope=runtime \
    -Dmdep.outputFile="$CPFILE") >> "$LOG" 2>&1 || { say "classpath failed (see $LOG)"; exit 1; }
  CP="$ROOT/perl-model/target/classes:$ROOT/perl-common/target/classes:$(cat "$CPFILE")"
  rm -f "$CPFILE"
  say "running QwenGpuBench $*"
  timeout -s QUIT -k 15 "$(left)" java -Xmx"${BENCH_XMX:-2g}" -Dai.djl.offline=true -cp "$CP" \
    io.perlspark.model.bench.QwenGpuBench --config tiny --device cpu \
    --parity-checkpoint "$ROOT/perl-model/src/test/resources/qwen25vl/tiny-tied" --out "$JSONL" "$@" 2>> "$LOG" \
    | tee -a "$LOG" > /dev/null
  rc=${PIPESTATUS[0]}
  summarise "$rc"
  exit "$rc"
fi

# ------------------------------------------------------------------ pack mode (GPU machine)
WORK=${BENCH_WORK:-/tmp/perl-gpubench}
rm -rf "$WORK"; mkdir -p "$WORK"
[[ -f $PACK/payload.tar.xz ]] || { say "no $PACK/payload.tar.xz: run bench/gpu/pack.sh first"; exit 2; }
tar -xJf "$PACK/payload.tar.xz" -C "$WORK" || { say "cannot unpack $PACK/payload.tar.xz"; exit 1; }
P="$WORK/payload"
say "payload of commit $(cat "$P/COMMIT"); $(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1 || echo 'no nvidia-smi')"
JAVA="$P/jre/bin/java"
"$JAVA" -version >> "$LOG" 2>&1 || { say "the packed JRE does not start here (see $LOG)"; exit 1; }

PY=""
for c in ${PYTHON:-} python3 /opt/torch/.venv/bin/python3; do
  if command -v "$c" >/dev/null 2>&1 && timeout 60 "$c" -c 'import torch' >/dev/null 2>&1; then PY=$c; break; fi
done
[[ -n $PY ]] || { say "no python with torch (set PYTHON)"; exit 1; }
say "building DJL's JNI against $PY's torch"
timeout "$(( $(left) > 200 ? 200 : $(left) ))" bash "$ROOT/deploy/gpu/build-jni.sh" --python "$PY" \
  --jdk-include "$P/jre/include" --cache "$WORK/djl-cache" --env-file "$WORK/perl-gpu.env" >> "$LOG" 2>&1
rc=$?
grep -E 'jni_functions|bf16|installed|failed|error' "$LOG" | tail -5 >> "$SUMMARY"
[[ $rc -eq 0 ]] || { say "JNI build failed rc=$rc (see $LOG)"; summarise "$rc"; exit 1; }
# shellcheck disable=SC1091
source "$WORK/perl-gpu.env"
say "env: PYTORCH_LIBRARY_PATH=$PYTORCH_LIBRARY_PATH PYTORCH_VERSION=$PYTORCH_VERSION PYTORCH_FLAVOR=$PYTORCH_FLAVOR $PERL_GPU_JAVA_OPTS"

BENCH_LEFT=$(( $(left) - 20 ))
say "running QwenGpuBench (${BENCH_LEFT}s left) $*"
# SIGQUIT at the limit leaves a thread dump in the log; SIGKILL 15 s later
# shellcheck disable=SC2086
timeout -s QUIT -k 15 "$BENCH_LEFT" "$JAVA" -Xmx"${BENCH_XMX:-16g}" $PERL_GPU_JAVA_OPTS \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=info -cp "$P/lib/*" io.perlspark.model.bench.QwenGpuBench \
  --config 3b --device gpu --parity-checkpoint "$P/fixture" --budget-s $(( BENCH_LEFT - 60 )) \
  --out "$JSONL" "$@" 2>> "$LOG" | tee -a "$LOG" > /dev/null
rc=${PIPESTATUS[0]}
summarise "$rc"
exit "$rc"
