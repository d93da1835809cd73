#!/usr/bin/env bash
# Submits a perl subcommand to YARN (cluster deploy mode: the driver runs in the application
# master's container), through deploy/spark-submit.sh. Not exercised by CI (no YARN here); use
# --dry-run to see exactly what it would submit.
#
#   deploy/yarn/submit.sh [options] [spark-submit options] -- <perl subcommand> [args]
#     --executors N       executor containers (default 2); also spark.default.parallelism
#     --executor-cores C  cores per executor = spark.task.cpus (default 1; 4 with --gpu)
#     --queue Q           YARN queue
#     --gpu               GPU executors (YARN 3.1+ with the yarn.io/gpu resource type):
#                         conf/spark-defaults-gpu.conf, the discovery script shipped with the job
#     --dry-run           print the properties and the spark-submit command, submit nothing
#   e.g. HADOOP_CONF_DIR=/etc/hadoop/conf deploy/yarn/submit.sh --executors 8 -- \
#          train --config hdfs:///perl/configs/run.yaml --no-progress
#
# Needs HADOOP_CONF_DIR (or YARN_CONF_DIR) and Spark's YARN client: deploy/spark-dist built with
# -Pyarn, or a Spark distribution in SPARK_HOME. Paths in the perl arguments must be readable by
# the cluster (hdfs://, or a file system every node mounts). On GPU nodes DJL needs the CUDA
# libtorch 2.7.1 (cu128) installed on the nodes: PERL_LIBTORCH_DIR (default /opt/libtorch).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

die() {
  echo "yarn/submit.sh: $*" >&2
  exit 2
}

executors=2
executor_cores=""
queue=""
gpu=false
dry_run=false
source "$(dirname "${BASH_SOURCE[0]}")/../lib/submit-args.sh"
split_at_dashes "$@"
set -- "${passed[@]}"
passed=()
while (($#)); do
  case $1 in
    --executors) executors=${2:?}; shift 2 ;;
    --executor-cores) executor_cores=${2:?}; shift 2 ;;
    --queue) queue=${2:?}; shift 2 ;;
    --gpu) gpu=true; shift ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) passed+=("$1"); shift ;;
  esac
done
((${#app[@]})) || die "no perl subcommand after '--'"
[[ $executors =~ ^[1-9][0-9]*$ ]] || die "--executors $executors: expected a number >= 1"
if $gpu; then executor_cores=${executor_cores:-4}; else executor_cores=${executor_cores:-1}; fi
[[ $executor_cores =~ ^[1-9][0-9]*$ ]] || die "--executor-cores $executor_cores: expected a number >= 1"
if ! $dry_run; then
  [[ -n ${HADOOP_CONF_DIR:-}${YARN_CONF_DIR:-} ]] || die "set HADOOP_CONF_DIR (or YARN_CONF_DIR) to the cluster's Hadoop configuration"
  if [[ -z ${SPARK_HOME:-} ]] && ! compgen -G "$root/deploy/spark-dist/target/jars/spark-yarn_*.jar" >/dev/null; then
    die "Spark's YARN client is missing: (cd $root && mvn -B -f deploy/spark-dist/pom.xml -Pyarn package), or set SPARK_HOME"
  fi
fi

files=$root/conf/log4j2.properties
props=$(mktemp "${TMPDIR:-/tmp}/perl-yarn.XXXXXX.conf")
trap 'rm -f "$props"' EXIT
{
  cat "$root/conf/spark-defaults-cluster.conf" "$here/spark-yarn.conf"
  if $gpu; then
    cat "$root/conf/spark-defaults-gpu.conf"
    libtorch=${PERL_LIBTORCH_DIR:-/opt/libtorch}
    echo
    echo "# GPU on YARN: the discovery script travels with the job; DJL loads the nodes' CUDA libtorch."
    echo "spark.executor.resource.gpu.discoveryScript ./discover-gpus.sh"
    echo "spark.executorEnv.PYTORCH_LIBRARY_PATH $libtorch/lib"
    echo "spark.executorEnv.PYTORCH_VERSION 2.7.1"
    echo "spark.executorEnv.PYTORCH_FLAVOR cu128"
    echo "spark.executorEnv.LD_LIBRARY_PATH $libtorch/lib"
  fi
  echo
  echo "# derived by deploy/yarn/submit.sh"
  echo "spark.executor.instances $executors"
  echo "spark.default.parallelism $executors"
  echo "spark.executor.cores $executor_cores"
  echo "spark.task.cpus $executor_cores"
  [[ -n $queue ]] && echo "spark.yarn.queue $queue"
} >"$props"
$gpu && files+=,$root/deploy/gpu/discover-gpus.sh

if $dry_run; then
  cat "$props"
  echo "# would run: deploy/spark-submit.sh --properties-file <this> --files $files ${passed[*]} -- ${app[*]}"
  exit 0
fi
"$root/deploy/spark-submit.sh" --properties-file "$props" --files "$files" "${passed[@]}" -- "${app[@]}" &
submitter=$!
trap 'kill -TERM "$submitter" 2>/dev/null || true' INT TERM
status=0
wait "$submitter" || status=$?
while kill -0 "$submitter" 2>/dev/null; do
  wait "$submitter" || status=$?
done
exit "$status"
