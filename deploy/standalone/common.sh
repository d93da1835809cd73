# Shared by start-cluster.sh, stop-cluster.sh and submit.sh (sourced, not run).
#
# A cluster's run folder (default runs/cluster, mode 700) holds everything it makes:
#   cluster.env         master URL, host, worker count/cores/memory (no secret)
#   secret              the generated RPC secret (mode 600), only when PERL_SPARK_SECRET was not set
#   pids/*.pid          one file per process this repository's scripts started (master, worker-N,
#                       driver-N while a submit runs); stop-cluster.sh stops exactly these
#   logs/*.log          master, workers (executors log under work/<app>/<executor>/stderr)
#   work/worker-N/      each worker's work dir (executor folders, their stdout/stderr)
#   djl-cache/          default DJL_CACHE_DIR of the executors (libtorch unpacked once per node)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
spark_dist=$root/deploy/spark-dist/target
jars_dir=$spark_dist/jars
default_run_dir=$root/runs/cluster

die() {
  echo "$(basename "$0"): $*" >&2
  exit 2
}

# pid_cmdline PID: the full command line of a live process (empty when there is none).
pid_cmdline() {
  ps -ww -o args= -p "$1" 2>/dev/null || true
}

# pid_alive_as PID TEXT: the process lives and its command line contains TEXT (so a PID the OS
# recycled for some other program is never signalled).
pid_alive_as() {
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  local cmd
  cmd=$(pid_cmdline "$1")
  [[ -n $cmd && $cmd == *"$2"* ]]
}

# stop_pid PID TEXT NAME: SIGTERM, up to 20 s for a clean exit, then SIGKILL. Only signals PID,
# and only while it still runs the expected program (TEXT in its command line).
stop_pid() {
  local pid=$1 text=$2 name=$3
  if ! pid_alive_as "$pid" "$text"; then
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || return 0
  local i
  for ((i = 0; i < 200; i++)); do
    pid_alive_as "$pid" "$text" || { echo "stopped $name (pid $pid)"; return 0; }
    sleep 0.1
  done
  echo "$name (pid $pid) ignored SIGTERM for 20 s; SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

# The Spark flags of conf/jvm.options (the --add-opens list; DJL's -D flags are harmless here).
jvm_flags() {
  grep -vE '^\s*(#|$)' "$root/conf/jvm.options"
}

require_spark_dist() {
  [[ -d $jars_dir ]] && compgen -G "$jars_dir/spark-core_*.jar" >/dev/null \
    || die "no Spark jars in $jars_dir; resolve them: (cd $root && mvn -B -f deploy/spark-dist/pom.xml package)"
}

# What every Spark JVM of a cluster needs in its environment (SPARK_HOME = the Maven-made jar
# folder; without SPARK_SCALA_VERSION every executor launch fails with "Cannot find any build
# directories").
export_spark_env() {
  export SPARK_HOME=$spark_dist
  export SPARK_SCALA_VERSION=2.13
  export SPARK_LOCAL_IP=$1
  # Spark's own conf folder would be SPARK_HOME/conf; point it at an empty folder of the run so a
  # stray spark-defaults.conf never changes a cluster silently.
  export SPARK_CONF_DIR=$2
}
