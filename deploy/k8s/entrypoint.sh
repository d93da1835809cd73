#!/usr/bin/env bash
# Entrypoint of the perl-spark image (deploy/k8s/Dockerfile) for Spark on Kubernetes, without a
# Spark distribution: Spark's jars are the Maven-resolved deploy/spark-dist (-Pkubernetes) in
# $SPARK_HOME/jars. Spark's Kubernetes backend starts pods with one of two roles:
#   driver ARGS...   the driver (cluster deploy mode): spark-submit in client mode inside the pod,
#                    with the arguments and properties file Spark gives it
#   executor         an executor, configured by the SPARK_* environment Spark sets on the pod
# Anything else runs as given (e.g. `bash` to look around).
#
# Both roles get the perl JVM flags (conf/jvm.options: the --add-opens Spark 4 needs, DJL offline,
# one intra-op thread). An image built with TORCH_FLAVOR=cu128 makes DJL load the CUDA libtorch in
# /opt/libtorch instead of the CPU natives bundled in the application jar.
set -euo pipefail

: "${SPARK_HOME:=/opt/spark}"
: "${PERL_HOME:=/opt/perl-spark}"
export SPARK_HOME
export SPARK_SCALA_VERSION=${SPARK_SCALA_VERSION:-2.13}

if [[ ${PERL_TORCH_FLAVOR:-cpu} != cpu ]]; then
  export PYTORCH_LIBRARY_PATH=${PYTORCH_LIBRARY_PATH:-/opt/libtorch/lib}
  export PYTORCH_VERSION=${PYTORCH_VERSION:-2.7.1}
  export PYTORCH_FLAVOR=${PYTORCH_FLAVOR:-$PERL_TORCH_FLAVOR}
  export LD_LIBRARY_PATH=$PYTORCH_LIBRARY_PATH${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
# DJL unpacks natives (and the JNI library) here; the pod templates mount local disk (emptyDir).
export DJL_CACHE_DIR=${DJL_CACHE_DIR:-/var/cache/djl}

mapfile -t jvm_flags < <(grep -vE '^\s*(#|$)' "$PERL_HOME/conf/jvm.options")

# Spark's classpath: its conf folder (spark.properties, mounted by Spark), extra entries Spark
# passes (SPARK_CLASSPATH), the jars.
classpath="${SPARK_CONF_DIR:-$SPARK_HOME/conf}:${SPARK_CLASSPATH:+$SPARK_CLASSPATH:}$SPARK_HOME/jars/*"

# tini reaps zombies and forwards signals (pod termination) to the JVM.
run() {
  if command -v tini >/dev/null 2>&1; then
    exec tini -s -- "$@"
  fi
  exec "$@"
}

case ${1:-} in
  driver)
    shift
    # What bin/spark-submit does: org.apache.spark.launcher.Main turns the arguments and the
    # properties file into the driver's java command (heap = spark.driver.memory, extra Java
    # options, the module flags). It prints any messages, then NUL + newline, then the command
    # NUL-separated; the exit status is appended here.
    : "${SPARK_DRIVER_BIND_ADDRESS:?the driver pod sets SPARK_DRIVER_BIND_ADDRESS}"
    out=()
    while IFS= read -r -d '' arg; do
      out+=("$arg")
    done < <(java -Xmx128m -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main org.apache.spark.deploy.SparkSubmit \
      --conf "spark.driver.bindAddress=$SPARK_DRIVER_BIND_ADDRESS" --deploy-mode client "$@"; printf '%d\0' $?)
    status=${out[${#out[@]} - 1]}
    if [[ $status != 0 || ${#out[@]} -lt 3 ]]; then
      echo "entrypoint: Spark's launcher failed (status $status): ${out[*]}" >&2
      exit 1
    fi
    [[ -n ${out[0]} ]] && echo "${out[0]}" >&2
    cmd=("${out[@]:1:${#out[@]}-2}")
    cmd[0]=${cmd[0]#$'\n'}
    # The launcher's java command, with our flags right after the java binary.
    run "${cmd[0]}" "${jvm_flags[@]}" "${cmd[@]:1}"
    ;;
  executor)
    shift
    # Spark passes the executor's Java options as SPARK_JAVA_OPT_0, _1, ... (in this order).
    java_opts=()
    while IFS= read -r name; do
      java_opts+=("${!name}")
    done < <(compgen -e | grep '^SPARK_JAVA_OPT_[0-9]*$' | sort -t_ -k4 -n)
    run java "${jvm_flags[@]}" "${java_opts[@]}" "-Xms$SPARK_EXECUTOR_MEMORY" "-Xmx$SPARK_EXECUTOR_MEMORY" \
      -cp "$classpath" org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend \
      --driver-url "$SPARK_DRIVER_URL" --executor-id "$SPARK_EXECUTOR_ID" --cores "$SPARK_EXECUTOR_CORES" \
      --app-id "$SPARK_APPLICATION_ID" --hostname "$SPARK_EXECUTOR_POD_IP" \
      --resourceProfileId "$SPARK_RESOURCE_PROFILE_ID" --podName "$SPARK_EXECUTOR_POD_NAME"
    ;;
  *)
    run "$@"
    ;;
esac
