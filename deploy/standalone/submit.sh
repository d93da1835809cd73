#!/usr/bin/env bash
# Submits a perl subcommand to a standalone cluster started by start-cluster.sh (client mode: the
# driver runs here, in the foreground), through deploy/spark-submit.sh.
#
#   deploy/standalone/submit.sh [options] [spark-submit options] -- <perl subcommand> [args]
#     --run-dir DIR          the cluster's run folder (default runs/cluster): master URL, secret
#     --master URL           another master (then PERL_SPARK_SECRET must hold its secret)
#     --executor-cores C     cores per executor; also spark.task.cpus, so one task per executor
#                            JVM (default: the worker cores of the cluster)
#     --executor-memory M    default: the worker memory of the cluster
#     --executors N          how many executors (default: all the workers can hold)
#     --gpu                  GPU executors: adds conf/spark-defaults-gpu.conf (one executor per GPU)
#     --dry-run              print the submission's properties (secret redacted) and stop
#   e.g. deploy/standalone/submit.sh -- train --config conf/demo.yaml --no-progress
#
# Settings, lowest priority first: conf/spark-defaults-cluster.conf, (--gpu) conf/spark-defaults-gpu.conf,
# what this script derives (master, executor cores = task cpus, memory, spark.cores.max,
# spark.default.parallelism = number of executors, DJL_CACHE_DIR), then your --conf options.
# spark.default.parallelism is pinned because the trainer partitions its data by it: a count that
# followed the live executors would change a run's results whenever an executor registers late or dies.
#
# The secret (PERL_SPARK_SECRET, else RUN_DIR/secret) reaches the driver in a properties file of
# mode 600 inside the run folder that lives only while the driver runs: never a command line.
# Environment: PERL_SPARK_SECRET, PERL_DJL_CACHE_DIR (executors' DJL cache; default RUN_DIR/djl-cache,
# a path that must be on local disk of every worker), PERL_LIBTORCH_DIR (--gpu: the workers' CUDA
# libtorch, default /opt/libtorch), PERL_GPU_ENV (--gpu: the env file of deploy/gpu/build-jni.sh; wins
# over PERL_LIBTORCH_DIR), PERL_APP_JAR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

run_dir=$default_run_dir
master=""
executor_cores=""
executor_memory=""
executors=""
gpu=false
dry_run=false
source "$(dirname "${BASH_SOURCE[0]}")/../lib/submit-args.sh"
split_at_dashes "$@"
set -- "${passed[@]}"
passed=()
while (($#)); do
  case $1 in
    --run-dir) run_dir=${2:?}; shift 2 ;;
    --master) master=${2:?}; shift 2 ;;
    --executor-cores) executor_cores=${2:?}; shift 2 ;;
    --executor-memory) executor_memory=${2:?}; shift 2 ;;
    --executors) executors=${2:?}; shift 2 ;;
    --gpu) gpu=true; shift ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) passed+=("$1"); shift ;;
  esac
done
((${#app[@]})) || die "no perl subcommand after '--'"

cluster_env=$run_dir/cluster.env
value() { # value KEY: from cluster.env (empty if absent)
  [[ -f $cluster_env ]] && sed -nE "s/^$1=(.*)$/\1/p" "$cluster_env" | tail -1
}
if [[ -z $master ]]; then
  [[ -f $cluster_env ]] || die "no cluster in $run_dir (no cluster.env); start one (deploy/standalone/start-cluster.sh) or give --master"
  master=$(value MASTER_URL)
fi
[[ $master == spark://* ]] || die "--master $master: expected spark://HOST:PORT"
if [[ -n ${PERL_SPARK_SECRET:-} ]]; then
  secret=$PERL_SPARK_SECRET
elif [[ -f $run_dir/secret ]]; then
  secret=$(<"$run_dir/secret")
else
  die "no secret: set PERL_SPARK_SECRET (the cluster was started with it) or use the cluster's --run-dir"
fi

workers=$(value WORKERS)
worker_cores=$(value WORKER_CORES)
gpus_per_worker=$(value GPUS_PER_WORKER)
# Executors per worker: as many as its cores allow; with --gpu, one per GPU.
per_worker_limit=""
if $gpu; then
  if [[ ${gpus_per_worker:-0} -gt 0 ]]; then
    per_worker_limit=$gpus_per_worker
    [[ -n $worker_cores ]] && executor_cores=${executor_cores:-$((worker_cores / gpus_per_worker > 0 ? worker_cores / gpus_per_worker : 1))}
  elif [[ -z $executors ]]; then
    die "--gpu: the cluster's workers offer no GPUs (start it with --gpus-per-worker G), or give --executors N"
  fi
fi
executor_cores=${executor_cores:-${worker_cores:-1}}
[[ $executor_cores =~ ^[1-9][0-9]*$ ]] || die "--executor-cores $executor_cores: expected a number >= 1"
if [[ -z $executors ]]; then
  [[ -n $workers && -n $worker_cores ]] || die "--executors N is needed for a master this script did not start"
  per_worker=$((worker_cores / executor_cores))
  if [[ -n $per_worker_limit ]] && ((per_worker > per_worker_limit)); then
    per_worker=$per_worker_limit
  fi
  executors=$((workers * per_worker))
  ((executors > 0)) || die "--executor-cores $executor_cores: more than a worker offers ($worker_cores)"
fi
# Memory: by default the worker's memory, shared by the executors one worker holds.
if [[ -z $executor_memory ]]; then
  worker_memory=$(value WORKER_MEMORY)
  if [[ $worker_memory =~ ^([0-9]+)([mMgG])$ ]]; then
    mb=${BASH_REMATCH[1]}
    [[ ${BASH_REMATCH[2]} == [gG] ]] && mb=$((mb * 1024))
    executor_memory=$((mb / ${per_worker:-1}))m
  else
    executor_memory=2g
  fi
fi
[[ $executors =~ ^[1-9][0-9]*$ ]] || die "--executors $executors: expected a number >= 1"

# The properties of this submission (mode 600, removed when the driver ends).
mkdir -p "$run_dir/pids"
umask 077
props=$(mktemp "$run_dir/submit.XXXXXX.conf")
driver_pid=""
cleanup() {
  rm -f "$props"
  [[ -n $driver_pid ]] && rm -f "$run_dir/pids/driver-$driver_pid.pid"
  return 0
}
trap cleanup EXIT
{
  cat "$root/conf/spark-defaults-cluster.conf"
  if $gpu; then cat "$root/conf/spark-defaults-gpu.conf"; fi
  echo
  echo "# derived by deploy/standalone/submit.sh"
  echo "spark.master $master"
  echo "spark.executor.cores $executor_cores"
  echo "spark.task.cpus $executor_cores"
  echo "spark.executor.memory $executor_memory"
  echo "spark.cores.max $((executors * executor_cores))"
  echo "spark.default.parallelism $executors"
  echo "spark.executorEnv.DJL_CACHE_DIR ${PERL_DJL_CACHE_DIR:-$run_dir/djl-cache}"
  if $gpu; then
    echo "spark.executor.resource.gpu.discoveryScript $root/deploy/gpu/discover-gpus.sh"
    if [[ -n ${PERL_GPU_ENV:-} ]]; then
      # the env file deploy/gpu/build-jni.sh wrote (same paths on every worker): the workers' own
      # libtorch with a JNI built for it (bf16 included), found offline in its DJL cache
      [[ -f $PERL_GPU_ENV ]] || die "PERL_GPU_ENV=$PERL_GPU_ENV: no such file (deploy/gpu/build-jni.sh writes it)"
      (
        # shellcheck disable=SC1090
        source "$PERL_GPU_ENV"
        for v in PYTORCH_LIBRARY_PATH PYTORCH_VERSION PYTORCH_FLAVOR DJL_CACHE_DIR DJL_OFFLINE PYTORCH_LIBRARY_EXCLUSION; do
          if [[ -n ${!v:-} ]]; then echo "spark.executorEnv.$v ${!v}"; fi
        done
        # JNA (Engine.getGpuCount) finds libcudart through the loader's path as well as jna.library.path
        echo "spark.executorEnv.LD_LIBRARY_PATH $PYTORCH_LIBRARY_PATH${PERL_GPU_JNA_LIBRARY_PATH:+:$PERL_GPU_JNA_LIBRARY_PATH}"
      )
    else
      # DJL's stock JNI (inside pytorch-jni, no bf16) on the workers' CUDA libtorch 2.7.1 (cu128).
      libtorch=${PERL_LIBTORCH_DIR:-/opt/libtorch}
      echo "spark.executorEnv.PYTORCH_LIBRARY_PATH $libtorch/lib"
      echo "spark.executorEnv.PYTORCH_VERSION 2.7.1"
      echo "spark.executorEnv.PYTORCH_FLAVOR cu128"
      echo "spark.executorEnv.LD_LIBRARY_PATH $libtorch/lib"
    fi
  fi
  echo "spark.authenticate.secret $secret"
} >"$props"
umask 022
if $dry_run; then
  sed -E 's/^(spark\.authenticate\.secret) .*/\1 <redacted>/' "$props"
  echo "# would run: deploy/spark-submit.sh --properties-file <this> ${passed[*]} -- ${app[*]}"
  exit 0
fi

# The driver runs as a child (not exec) so the properties file is removed however it ends; its PID
# is recorded so stop-cluster.sh can stop a driver left running.
"$root/deploy/spark-submit.sh" --properties-file "$props" "${passed[@]}" -- "${app[@]}" &
driver_pid=$!
echo "$driver_pid" >"$run_dir/pids/driver-$driver_pid.pid"
trap 'kill -TERM "$driver_pid" 2>/dev/null || true' INT TERM
status=0
wait "$driver_pid" || status=$?
# A signal interrupts the first wait; wait again for the driver's own exit status.
while kill -0 "$driver_pid" 2>/dev/null; do
  wait "$driver_pid" || status=$?
done
exit "$status"
