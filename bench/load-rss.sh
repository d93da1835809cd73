#!/usr/bin/env bash
# Peak resident memory to load a Hugging Face checkpoint of N parameters (BF16 on disk) into float32
# DJL NDArrays through SafeTensorsFolder (io.perlspark.model.hub.LoadRssBench, perl-model's test
# sources). Per N: write a synthetic sharded checkpoint in one JVM, load it in a fresh JVM with a
# small heap, print one line, delete the checkpoint. Usage:
#   bench/load-rss.sh [N ...]          default: 100000000 500000000
# Environment: BENCH_DIR (default: a temp folder; needs 2 bytes/param of disk), MAX_SHARD (bytes,
# default 400000000: several shards), LOAD_XMX (default 128m: the weights must not need the heap),
# MVN_ARGS (default -o).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
cp_file=target/bench-classpath.txt
mvn -B -q ${MVN_ARGS--o} -pl perl-model -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >&2
classpath="perl-model/target/test-classes:perl-model/target/classes:$(cat "perl-model/$cp_file")"
base=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/perl-load-rss.XXXXXX")
trap 'rm -rf "$base"' EXIT
run() { # run HEAP ARGS...
  local heap=$1
  shift
  java -Xmx"$heap" -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 -cp "$classpath" \
    io.perlspark.model.hub.LoadRssBench "$@" 2> >(grep -v -e 'AutoNonVariableTypeMode' -e '^SLF4J' >&2)
}
for n in "${@:-100000000 500000000}"; do
  for n1 in $n; do
    run 1g write "$base/ckpt" "$n1" "${MAX_SHARD:-400000000}"
    echo "on disk: $(du -sb "$base/ckpt" | cut -f1) bytes in $(ls "$base/ckpt" | wc -l) files"
    run "${LOAD_XMX:-128m}" load "$base/ckpt"
    rm -rf "$base/ckpt"
  done
done
