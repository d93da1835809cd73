#!/usr/bin/env bash
# Generation throughput of the Qwen2.5-VL model on the tiny fixture checkpoint, on CPU
# (io.perlspark.model.family.qwen25vl.QwenGenerationBench in perl-model's test sources).
#
#   bench/qwen-generation.sh [sequences [newTokens [rounds]]]     default 16 64 3
#
# Environment: MVN_ARGS (default "-o": offline), BENCH_THREADS (libtorch intra-op threads,
# default 1, as the tests), BENCH_JAVA_OPTS (default -Xmx2g).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
cp_file=target/bench-classpath.txt
mvn -B -q ${MVN_ARGS--o} -pl perl-model -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >&2
classpath="perl-model/target/test-classes:perl-model/target/classes:$(cat "perl-model/$cp_file")"
java ${BENCH_JAVA_OPTS:--Xmx2g} \
  -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="${BENCH_THREADS:-1}" \
  -cp "$classpath" io.perlspark.model.family.qwen25vl.QwenGenerationBench "$@" \
  2> >(grep -v -e 'AutoNonVariableTypeMode' -e '^SLF4J' >&2)
