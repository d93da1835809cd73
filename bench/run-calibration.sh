#!/usr/bin/env bash
# Runs the demo calibration (io.perlspark.model.train.DemoCalibration, in perl-model's test
# sources): SFT warm start on the biased SFT split, greedy eval on the balanced eval split, then
# GRPO + permutation, all in one JVM with the perl-model pieces. Not part of the unit tests.
#
#   bench/run-calibration.sh [key=value ...]      e.g. sftSteps=600 rlSteps=150 rlSeeds=2
#
# Environment: MVN_ARGS (default "-o"), BENCH_THREADS (libtorch intra-op threads, default 2),
# BENCH_JAVA_OPTS (default -Xmx3g), SKIP_BUILD=1 to reuse the last build's classpath.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
cp_file=target/bench-classpath.txt
if [[ -z "${SKIP_BUILD:-}" ]]; then
  mvn -B -q ${MVN_ARGS--o} -pl perl-model -am test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >&2
fi
classpath="perl-model/target/test-classes:perl-model/target/classes:perl-common/target/classes:$(cat "perl-model/$cp_file")"
java ${BENCH_JAVA_OPTS:--Xmx3g} \
  -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="${BENCH_THREADS:-2}" \
  -cp "$classpath" io.perlspark.model.train.DemoCalibration "$@" \
  2> >(grep -v -e 'AutoNonVariableTypeMode' -e '^SLF4J' >&2)
