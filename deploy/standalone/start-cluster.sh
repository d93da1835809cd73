#!/usr/bin/env bash
# Starts a Spark standalone cluster (a master and N workers) from the Spark jars Maven resolved in
# deploy/spark-dist: no Spark distribution needed. Binds to 127.0.0.1 unless told otherwise.
#
#   deploy/standalone/start-cluster.sh [options]
#     --workers N            workers on this host (default 2; 0: the master only)
#     --worker-cores C       cores each worker offers (default 1)
#     --worker-memory M      memory each worker offers to executors (default 2g)
#     --host H               address the master and workers bind to (default 127.0.0.1)
#     --port P               master RPC port (default 7077)
#     --webui-port P         master web UI port (default 8080; workers pick free ports)
#     --daemon-memory M      heap of the master and worker JVMs (default 512m)
#     --join URL             start only workers, joining the master at URL (another host's cluster)
#     --gpus-per-worker G    each worker offers G GPUs, found by deploy/gpu/discover-gpus.sh
#     --run-dir DIR          pids, logs, work dirs, secret (default runs/cluster)
#
# Security: RPC authentication and encryption are always on. The shared secret comes from
# PERL_SPARK_SECRET, or is generated for this cluster start and kept in RUN_DIR/secret (mode 600)
# for deploy/standalone/submit.sh. It reaches the master and workers through their environment,
# never a command line or a committed file; workers hand it to their executors the same way.
#
# Stop with deploy/standalone/stop-cluster.sh --run-dir DIR (by the PIDs recorded here).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

workers=2
worker_cores=1
worker_memory=2g
host=127.0.0.1
port=7077
webui_port=8080
daemon_memory=512m
join=""
gpus=0
run_dir=$default_run_dir

while (($#)); do
  case $1 in
    --workers) workers=${2:?}; shift 2 ;;
    --worker-cores) worker_cores=${2:?}; shift 2 ;;
    --worker-memory) worker_memory=${2:?}; shift 2 ;;
    --host) host=${2:?}; shift 2 ;;
    --port) port=${2:?}; shift 2 ;;
    --webui-port) webui_port=${2:?}; shift 2 ;;
    --daemon-memory) daemon_memory=${2:?}; shift 2 ;;
    --join) join=${2:?}; shift 2 ;;
    --gpus-per-worker) gpus=${2:?}; shift 2 ;;
    --run-dir) run_dir=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ $workers =~ ^[0-9]+$ ]] || die "--workers $workers: expected a number >= 0"
[[ $worker_cores =~ ^[1-9][0-9]*$ ]] || die "--worker-cores $worker_cores: expected a number >= 1"
[[ $worker_memory =~ ^[1-9][0-9]*[kKmMgGtT]$ ]] || die "--worker-memory $worker_memory: expected e.g. 2g or 512m"
[[ $port =~ ^[0-9]+$ && $webui_port =~ ^[0-9]+$ ]] || die "--port and --webui-port must be numbers"
[[ $gpus =~ ^[0-9]+$ ]] || die "--gpus-per-worker $gpus: expected a number >= 0"
if [[ -n $join ]]; then
  [[ $join == spark://* ]] || die "--join $join: expected spark://HOST:PORT"
  [[ -n ${PERL_SPARK_SECRET:-} ]] || die "--join needs PERL_SPARK_SECRET: the secret of the cluster being joined"
  ((workers > 0)) || die "--join with --workers 0 starts nothing"
fi
require_spark_dist
command -v java >/dev/null || die "java not found (Java 17+ needed)"

run_dir=$(mkdir -p "$run_dir" && cd "$run_dir" && pwd)
chmod 700 "$run_dir"
for f in "$run_dir"/pids/*.pid; do
  [[ -e $f ]] || continue
  pid=$(cat "$f")
  if pid_alive_as "$pid" org.apache.spark; then
    die "a cluster process of $run_dir still runs ($(basename "$f" .pid), pid $pid); stop it first: deploy/standalone/stop-cluster.sh --run-dir $run_dir"
  fi
  rm -f "$f"
done
mkdir -p "$run_dir/pids" "$run_dir/logs" "$run_dir/work" "$run_dir/conf" "$run_dir/djl-cache"

# The shared secret: the caller's, else a fresh random one for this cluster start.
umask 077
if [[ -n ${PERL_SPARK_SECRET:-} ]]; then
  secret=$PERL_SPARK_SECRET
  rm -f "$run_dir/secret"
else
  secret=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
  printf '%s\n' "$secret" >"$run_dir/secret"
fi
umask 022

export_spark_env "$host" "$run_dir/conf"
mapfile -t flags < <(jvm_flags)
# Daemon settings: authenticated, encrypted RPC; no REST submission server (it is not
# authenticated); workers clean up the folders of finished applications.
daemon_props=(-Dspark.authenticate=true -Dspark.network.crypto.enabled=true -Dspark.master.rest.enabled=false
  -Dspark.worker.cleanup.enabled=true)
if ((gpus > 0)); then
  daemon_props+=(-Dspark.worker.resource.gpu.amount="$gpus"
    -Dspark.worker.resource.gpu.discoveryScript="$root/deploy/gpu/discover-gpus.sh")
fi

started=()
# On a failed start, stop what this run started (by PID) before exiting.
abort() {
  echo "start-cluster.sh: $*" >&2
  local p
  for p in "${started[@]}"; do
    stop_pid "${p%%:*}" org.apache.spark.deploy "${p#*:}" >&2
    rm -f "$run_dir/pids/${p#*:}.pid"
  done
  exit 1
}

# launch NAME MAIN_CLASS ARGS...: a daemon JVM in the background, output in logs/NAME.log.
launch() {
  local name=$1 main=$2
  shift 2
  # The secret travels in the child's environment only (Spark reads _SPARK_AUTH_SECRET).
  _SPARK_AUTH_SECRET=$secret nohup java "-Xmx$daemon_memory" "${flags[@]}" "${daemon_props[@]}" \
    -cp "$jars_dir/*" "$main" "$@" >"$run_dir/logs/$name.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$run_dir/pids/$name.pid"
  started+=("$pid:$name")
}

# wait_for NAME PATTERN SECONDS: until logs/NAME.log contains PATTERN; fails if the JVM exits.
wait_for() {
  local name=$1 pattern=$2 limit=$3 pid
  pid=$(cat "$run_dir/pids/$name.pid")
  local i
  for ((i = 0; i < limit * 5; i++)); do
    grep -qF -- "$pattern" "$run_dir/logs/$name.log" 2>/dev/null && return 0
    if ! pid_alive_as "$pid" org.apache.spark.deploy; then
      tail -n 30 "$run_dir/logs/$name.log" >&2 || true
      abort "$name exited during start-up (log: $run_dir/logs/$name.log)"
    fi
    sleep 0.2
  done
  tail -n 30 "$run_dir/logs/$name.log" >&2 || true
  abort "$name did not report '$pattern' within $limit s (log: $run_dir/logs/$name.log)"
}

if [[ -n $join ]]; then
  master_url=$join
else
  master_url=spark://$host:$port
  launch master org.apache.spark.deploy.master.Master --host "$host" --port "$port" --webui-port "$webui_port"
  wait_for master "elected leader" 90
  # Spark moves to the next port when one is taken: report the ones it really bound.
  bound=$(sed -nE 's/.*Starting Spark master at (spark:\/\/[^ ]+).*/\1/p' "$run_dir/logs/master.log" | tail -1)
  master_url=${bound:-$master_url}
  ui=$(sed -nE "s/.*Successfully started service 'MasterUI' on port ([0-9]+).*/\1/p" "$run_dir/logs/master.log" | tail -1)
  webui_port=${ui:-$webui_port}
fi

# Worker names continue after the ones already in the run folder (so --join can add more).
first=1
while [[ -e $run_dir/logs/worker-$first.log && -n $join ]]; do first=$((first + 1)); done
for ((w = first; w < first + workers; w++)); do
  mkdir -p "$run_dir/work/worker-$w"
  launch "worker-$w" org.apache.spark.deploy.worker.Worker --host "$host" --webui-port 0 \
    --cores "$worker_cores" --memory "$worker_memory" --work-dir "$run_dir/work/worker-$w" "$master_url"
done
for ((w = first; w < first + workers; w++)); do
  wait_for "worker-$w" "Successfully registered with master" 90
done

cat >"$run_dir/cluster.env" <<EOF
# written by deploy/standalone/start-cluster.sh; read by submit.sh (no secret here)
MASTER_URL=$master_url
HOST=$host
WORKERS=$((first + workers - 1))
WORKER_CORES=$worker_cores
WORKER_MEMORY=$worker_memory
GPUS_PER_WORKER=$gpus
EOF

echo "cluster up: $master_url ($((first + workers - 1)) workers x $worker_cores cores, $worker_memory)"
[[ -z $join ]] && echo "  master UI  http://$host:$webui_port"
echo "  run dir    $run_dir (pids/, logs/, work/)"
echo "  secret     $([[ -n ${PERL_SPARK_SECRET:-} ]] && echo 'from PERL_SPARK_SECRET' || echo "generated, in $run_dir/secret")"
echo "  submit     deploy/standalone/submit.sh --run-dir $run_dir -- train --config conf/demo.yaml"
echo "  stop       deploy/standalone/stop-cluster.sh --run-dir $run_dir"
