#!/usr/bin/env bash
# Data-job throughput: `perl prepare`, `perl permute -k 1` and a plain Parquet read + write of one
# synthetic train split, in one JVM, interleaved, REPS times each (+1 warm-up), on one Spark master.
#
#   bench/data-throughput.sh [ROWS] [REPS] [MASTER]      (defaults: 20000 3 'local[2]')
#
# Environment: BENCH_DIR (work folder; default a new temp folder), BENCH_KEEP=1 (keep the generated
# input there; by default it is removed at the end, the logs stay), PERL_JAVA_OPTS (heap; default
# -Xmx6g as bin/perl).
# Needs the built app jar and deploy/spark-dist (mvn -DskipTests install; mvn -f deploy/spark-dist/pom.xml package).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rows=${1:-20000}
reps=${2:-3}
master=${3:-local[2]}
jar=$root/perl-spark-jobs/target/perl-spark-jobs-0.1.0-SNAPSHOT-app.jar
cp_file=$root/deploy/spark-dist/target/spark-classpath.txt
[[ -f $jar && -f $cp_file ]] || {
  echo "bench: build first: (cd $root && mvn -B -DskipTests install && mvn -B -f deploy/spark-dist/pom.xml package)" >&2
  exit 2
}

if [[ -n ${BENCH_DIR:-} ]]; then
  work=$BENCH_DIR
  mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/perl-bench.XXXXXX")
fi
[[ ${BENCH_KEEP:-0} == 1 ]] || trap 'rm -rf "$work/synth"' EXIT

echo "== machine"
echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "host:    nproc=$(nproc), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "java:    $(java -version 2>&1 | head -1)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, before the run)"
echo "commit:  $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (+ local changes)')"
echo "command: bench/data-throughput.sh $rows $reps '$master'"

# The input: one synthetic train split, made once by the real command.
input=$work/synth/train
if [[ ! -d $input ]]; then
  echo "== input: bin/perl synth --out $work/synth --train $rows --eval 0 --sft 0"
  "$root/bin/perl" synth --out "$work/synth" --train "$rows" --eval 0 --sft 0 2> >(grep -v '^WARNING: Using incubator' >&2)
fi

echo "== runs (java ${PERL_JAVA_OPTS:--Xmx6g}, master $master)"
mapfile -t flags < <(grep -vE '^\s*(#|$)' "$root/conf/jvm.options")
export SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1}
# shellcheck disable=SC2086 # PERL_JAVA_OPTS is a list of options, as in bin/perl
java ${PERL_JAVA_OPTS:--Xmx6g} "${flags[@]}" -Dlog4j2.configurationFile="$root/conf/log4j2.properties" \
  -cp "$jar:$(cat "$cp_file")" "$root/bench/DataThroughput.java" "$input" "$work/out" "$reps" "$master" \
  2> >(grep -vE '^WARNING: Using incubator|^warning: using incubating|^1 warning$|existing Spark session|Truncated the string representation' >&2)
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (after)"
echo "logs:    $work/out/runs.tsv (every run), $work/out/stages.log (every Spark stage)"
