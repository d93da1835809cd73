#!/usr/bin/env bash
# spark-submit for the `perl` application jar.
#
#   deploy/spark-submit.sh [spark-submit options] -- <perl subcommand> [args]
#   e.g. deploy/spark-submit.sh --master 'local[2]' -- prepare -i in/ -o out/
#
# With a Spark distribution ($SPARK_HOME/bin/spark-submit) it calls that. Without one it does what
# spark-submit does: java <conf/jvm.options> -cp '<deploy/spark-dist jars>/*'
# org.apache.spark.deploy.SparkSubmit ..., with Spark's jars resolved by Maven (deploy/spark-dist).
# Either way it adds --class io.perlspark.jobs.cli.PerlCli, conf/spark-defaults.conf (when present)
# and the driver/executor Java options our jobs need (log4j config, DJL offline), merged with any the
# user gives.
#
# Environment: SPARK_HOME (a distribution; optional), PERL_APP_JAR (default: the built app jar; a
# URI such as local:///opt/perl-spark/perl-spark-jobs-app.jar names a jar inside the cluster's
# image, for --deploy-mode cluster), SPARK_LOCAL_IP (default 127.0.0.1 for local and loopback
# masters only: a driver that cluster executors must reach cannot listen on loopback).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
main_class=io.perlspark.jobs.cli.PerlCli
jar=${PERL_APP_JAR:-$root/perl-spark-jobs/target/perl-spark-jobs-0.1.0-SNAPSHOT-app.jar}
jars_dir=$root/deploy/spark-dist/target/jars
defaults_file=$root/conf/spark-defaults.conf
log4j_file=$root/conf/log4j2.properties

usage() {
  cat >&2 <<EOF
usage: deploy/spark-submit.sh [spark-submit options] -- <perl subcommand> [args]
  e.g. deploy/spark-submit.sh --master 'local[2]' -- synth --out /tmp/synth --train 2000
  spark-submit options: --master, --deploy-mode, --conf K=V, --driver-memory, ... (not --class:
  the class is always $main_class). Subcommands: deploy/spark-submit.sh -- --help
EOF
}

die() {
  echo "spark-submit.sh: $*" >&2
  exit 2
}

# Split the arguments at the first `--`: spark-submit options before it, perl's arguments after it.
submit_args=()
app_args=()
seen_separator=false
for a in "$@"; do
  if ! $seen_separator && [[ $a == -- ]]; then
    seen_separator=true
  elif $seen_separator; then
    app_args+=("$a")
  else
    submit_args+=("$a")
  fi
done
if ! $seen_separator; then
  if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    usage
    exit 0
  fi
  usage
  die "missing '--' between the spark-submit options and the perl subcommand"
fi

# Walk the spark-submit options: pull out what we merge (Java options, properties file, driver
# memory, class path) and note the master; everything else passes through unchanged.
flag_only=" --help -h --verbose -v --version --supervise --load-spark-defaults --usage-error "
passed=()
master=""
deploy_mode=""
properties_file=""
driver_memory=""
driver_class_path=""
user_driver_opts=""
user_executor_opts=""
i=0
n=${#submit_args[@]}
while ((i < n)); do
  opt=${submit_args[i]}
  value=""
  has_value=false
  if [[ $opt == --*=* ]]; then
    value=${opt#*=}
    opt=${opt%%=*}
    has_value=true
  elif [[ $opt == -* && $flag_only != *" $opt "* ]]; then
    ((i + 1 < n)) || die "spark-submit option $opt needs a value"
    value=${submit_args[i + 1]}
    has_value=true
    i=$((i + 1))
  fi
  i=$((i + 1))
  if ! $has_value; then
    passed+=("$opt")
    continue
  fi
  case $opt in
    --class) die "--class is always $main_class here; drop --class $value" ;;
    --master) master=$value; passed+=(--master "$value") ;;
    --deploy-mode) deploy_mode=$value; passed+=(--deploy-mode "$value") ;;
    --properties-file) properties_file=$value ;;
    --driver-memory) driver_memory=$value; passed+=(--driver-memory "$value") ;;
    --driver-class-path) driver_class_path=$value; passed+=(--driver-class-path "$value") ;;
    # spark-submit lets --driver-java-options replace spark.driver.extraJavaOptions; we merge both.
    --driver-java-options) user_driver_opts+=" $value" ;;
    --conf | -c)
      case $value in
        spark.driver.extraJavaOptions=*) user_driver_opts+=" ${value#*=}" ;;
        spark.executor.extraJavaOptions=*) user_executor_opts+=" ${value#*=}" ;;
        spark.master=*) master=${value#*=}; passed+=(--conf "$value") ;;
        spark.submit.deployMode=*) deploy_mode=${value#*=}; passed+=(--conf "$value") ;;
        spark.driver.memory=*) driver_memory=${driver_memory:-${value#*=}}; passed+=(--conf "$value") ;;
        *=*) passed+=(--conf "$value") ;;
        *) die "--conf $value: expected KEY=VALUE" ;;
      esac
      ;;
    *) passed+=("$opt" "$value") ;;
  esac
done

((${#app_args[@]})) || { usage; die "no perl subcommand after '--' (synth, prepare, permute, ...)"; }
# A URI (local://, hdfs://, s3a://, ...) names a jar the cluster reads itself.
if [[ ! $jar =~ ^[a-zA-Z][a-zA-Z0-9+.-]*:// ]]; then
  [[ -f $jar ]] || die "application jar $jar not found; build it: (cd $root && mvn -B -DskipTests install)"
fi
[[ -f $log4j_file ]] || die "$log4j_file not found"

# Properties file: the user's, else ours when present. A Java options key set in it is merged too,
# because the --conf we pass below would otherwise replace it.
if [[ -z $properties_file && -f $defaults_file ]]; then
  properties_file=$defaults_file
fi
property() { # property FILE KEY: the value of KEY in a Java properties file ("key value" or "key=value")
  [[ -n $1 && -f $1 ]] || return 0
  sed -nE "s/^[[:space:]]*$(sed 's/\./\\./g' <<<"$2")[[:space:]]*[=:[:space:]][[:space:]]*(.*)$/\1/p" "$1" | tail -1
}
if [[ -n $properties_file ]]; then
  [[ -f $properties_file ]] || die "properties file $properties_file not found"
  passed+=(--properties-file "$properties_file")
  file_driver_opts=$(property "$properties_file" spark.driver.extraJavaOptions)
  file_executor_opts=$(property "$properties_file" spark.executor.extraJavaOptions)
  [[ -z $master ]] && master=$(property "$properties_file" spark.master)
  [[ -z $driver_memory ]] && driver_memory=$(property "$properties_file" spark.driver.memory)
  [[ -z $deploy_mode ]] && deploy_mode=$(property "$properties_file" spark.submit.deployMode)
  user_driver_opts="${file_driver_opts:+ $file_driver_opts}$user_driver_opts"
  user_executor_opts="${file_executor_opts:+ $file_executor_opts}$user_executor_opts"
fi

# Our Java options for driver and executors: the -D properties of conf/jvm.options (DJL offline, one
# intra-op thread, headless AWT; the --add-opens flags Spark adds itself). Only the driver gets our
# log4j config: on a cluster that path need not exist on the workers, whose logging the cluster owns.
mapfile -t jvm_flags < <(grep -vE '^\s*(#|$)' "$root/conf/jvm.options")
props=""
for f in "${jvm_flags[@]}"; do
  [[ $f == -D* ]] && props+=" $f"
done
props=${props# }
driver_opts="-Dlog4j2.configurationFile=file:$log4j_file $props${user_driver_opts}"
# In cluster deploy mode the driver runs on the cluster, where this file's path means nothing: its
# logging comes from the image or the properties file (deploy/k8s, deploy/yarn).
if [[ $deploy_mode == cluster ]]; then
  driver_opts="$props${user_driver_opts}"
fi
executor_opts="$props${user_executor_opts}"

case $master in
  "" | local | local\[* | local-cluster* | spark://127.0.0.1* | spark://localhost*)
    export SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1} ;;
esac

confs=(--conf "spark.driver.extraJavaOptions=$driver_opts" --conf "spark.executor.extraJavaOptions=$executor_opts")

if [[ -n ${SPARK_HOME:-} && -x $SPARK_HOME/bin/spark-submit ]]; then
  # --load-spark-defaults (Spark 4.0+) keeps the cluster's spark-defaults.conf next to our file.
  extra=()
  [[ -n $properties_file ]] && extra=(--load-spark-defaults)
  exec "$SPARK_HOME/bin/spark-submit" --class "$main_class" "${extra[@]}" "${passed[@]}" "${confs[@]}" \
    "$jar" "${app_args[@]}"
fi

# No distribution: this JVM is the client-mode driver, so the options spark-submit's launcher would
# put on the driver's command line (memory, Java options, class path) go on ours.
[[ -d $jars_dir ]] || die "no SPARK_HOME and no $jars_dir; resolve Spark's jars: (cd $root && mvn -B -f deploy/spark-dist/pom.xml package)"
export SPARK_SCALA_VERSION=${SPARK_SCALA_VERSION:-2.13}
cp="$jars_dir/*"
[[ -n $driver_class_path ]] && cp="$driver_class_path:$cp"
# shellcheck disable=SC2086 # the Java options are a space-separated list, as in spark-submit
exec java "-Xmx${driver_memory:-1g}" "${jvm_flags[@]}" $driver_opts -cp "$cp" \
  org.apache.spark.deploy.SparkSubmit --class "$main_class" "${passed[@]}" "${confs[@]}" "$jar" "${app_args[@]}"
