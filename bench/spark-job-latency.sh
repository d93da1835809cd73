#!/usr/bin/env bash
# The fixed cost of a small Spark job through Spark's Java API and through LeanRdds (no closure
# cleaner), interleaved in one JVM: wall and CPU time per job.
#
#   bench/spark-job-latency.sh [ROUNDS] [JOBS] [MASTER]      (defaults: 4 400 'local[2]')
#
# Needs the built app jar and deploy/spark-dist (mvn -DskipTests install; mvn -f deploy/spark-dist/pom.xml package).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-4}
jobs=${2:-400}
master=${3:-local[2]}
jar=${PERL_APP_JAR:-$root/perl-spark-jobs/target/perl-spark-jobs-0.1.0-SNAPSHOT-app.jar}
cp_file=$root/deploy/spark-dist/target/spark-classpath.txt
[[ -f $jar && -f $cp_file ]] || {
  echo "bench: build first: (cd $root && mvn -B -DskipTests install && mvn -B -f deploy/spark-dist/pom.xml package)" >&2
  exit 2
}
echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC'), nproc=$(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit:  $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (+ local changes)')"
# Compiled to class files first: the jobs' functions are this file's lambdas, which Spark serialises
# and loads back by class name, as it does an application's.
classes=$(mktemp -d "${TMPDIR:-/tmp}/perl-bench.XXXXXX")
trap 'rm -rf "$classes"' EXIT
javac -nowarn -d "$classes" -cp "$jar:$(cat "$cp_file")" "$root/bench/SparkJobLatency.java" 2> >(grep -vE 'warning|^Note:' >&2)
mapfile -t flags < <(grep -vE '^\s*(#|$)' "$root/conf/jvm.options")
export SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1}
# shellcheck disable=SC2086 # PERL_JAVA_OPTS is a list of options, as in bin/perl
java ${PERL_JAVA_OPTS:--Xmx2g} "${flags[@]}" -Dlog4j2.configurationFile="$root/conf/log4j2.properties" \
  -cp "$classes:$jar:$(cat "$cp_file")" SparkJobLatency "$rounds" "$jobs" "$master" \
  2> >(grep -vE '^WARNING: Using incubator|^warning: using incubating|^1 warning$' >&2)
