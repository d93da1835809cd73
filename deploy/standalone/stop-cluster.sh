#!/usr/bin/env bash
# Stops what deploy/standalone/start-cluster.sh and submit.sh started, by the PIDs in the run
# folder only (never by name): running drivers first, then workers, then the master; last, any
# executor JVM still running in one of this cluster's worker folders (an orphan of a killed worker).
#
#   deploy/standalone/stop-cluster.sh [--run-dir DIR]   (default runs/cluster)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

run_dir=$default_run_dir
while (($#)); do
  case $1 in
    --run-dir) run_dir=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ -d $run_dir/pids ]] || { echo "no cluster in $run_dir (no pids/)"; exit 0; }
run_dir=$(cd "$run_dir" && pwd)

stop_group() { # stop_group GLOB TEXT: every pid file matching GLOB whose process runs TEXT
  local f
  for f in "$run_dir"/pids/$1; do
    [[ -e $f ]] || continue
    stop_pid "$(cat "$f")" "$2" "$(basename "$f" .pid)"
    rm -f "$f"
  done
}

stop_group 'driver-*.pid' org.apache.spark.deploy.SparkSubmit
stop_group 'worker-*.pid' org.apache.spark.deploy.worker.Worker
stop_group 'master.pid' org.apache.spark.deploy.master.Master

# A worker stopped with SIGTERM stops its executors; one that was SIGKILLed leaves them to notice
# on their own. Find those by their working directory (inside this run's work/), not by name.
if [[ -d /proc ]]; then
  for p in /proc/[0-9]*; do
    cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
    if [[ $cwd == "$run_dir/work/"* ]]; then
      stop_pid "${p#/proc/}" CoarseGrainedExecutorBackend "executor in ${cwd#"$run_dir"/}"
    fi
  done
fi
echo "cluster in $run_dir stopped"
