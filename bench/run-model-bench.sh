#!/usr/bin/env bash
# Runs the perl-model benchmark (io.perlspark.model.train.ModelBench, in perl-model's test sources)
# on the classpath Maven resolves, with the JVM flags the tests use. Not part of the unit tests.
#
#   bench/run-model-bench.sh            full run (a few minutes on 2 cores)
#   bench/run-model-bench.sh --quick    smoke run (fewer repeats; numbers not for reporting)
#
# Environment: MVN_ARGS (default "-o": offline), BENCH_THREADS (libtorch intra-op threads,
# default 1 as in the tests and the peak measurement), BENCH_JAVA_OPTS (default -Xmx2g).
# The report goes to stdout and to perl-model/target/model-bench.txt.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
cp_file=target/bench-classpath.txt
# One reactor build: perl-common resolves to its fresh target/classes, not a stale installed jar.
mvn -B -q ${MVN_ARGS--o} -pl perl-model -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >&2
classpath="perl-model/target/test-classes:perl-model/target/classes:$(cat "perl-model/$cp_file")"
java ${BENCH_JAVA_OPTS:--Xmx2g} \
  -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="${BENCH_THREADS:-1}" \
  -cp "$classpath" io.perlspark.model.train.ModelBench "$@" \
  2> >(grep -v -e 'AutoNonVariableTypeMode' -e '^SLF4J' >&2) \
  | tee perl-model/target/model-bench.txt
