#!/usr/bin/env bash
# Submits a perl subcommand to Kubernetes (cluster deploy mode: the driver runs in a pod of the
# perl-spark image, deploy/k8s/Dockerfile), through deploy/spark-submit.sh.
#
#   deploy/k8s/submit.sh [options] [spark-submit options] -- <perl subcommand> [args]
#     --master URL        k8s://https://API-SERVER:PORT (default $K8S_MASTER)
#     --image IMAGE       the perl-spark image (default $PERL_IMAGE)
#     --namespace NS      default: spark-k8s.conf's (perl)
#     --executors N       executor pods (default 2); also spark.default.parallelism
#     --gpu               GPU executors: conf/spark-defaults-gpu.conf + executor-pod-template-gpu.yaml
#                         (use an image built with TORCH_FLAVOR=cu128)
#     --dry-run           print the properties and the spark-submit command, submit nothing
#   e.g. deploy/k8s/submit.sh --image registry.example.com/perl-spark:0.1.0 -- \
#          train --config /data/configs/run.yaml --no-progress
#
# Paths in the perl arguments are paths inside the pods (/data is the perl-data volume,
# /etc/perl-spark/run the perl-run-config ConfigMap, /opt/perl-spark/conf the image's configs).
# Settings, lowest priority first: conf/spark-defaults-cluster.conf, deploy/k8s/spark-k8s.conf,
# (--gpu) conf/spark-defaults-gpu.conf, what this script derives, your --conf options.
# Submitting needs Spark's Kubernetes client: deploy/spark-dist built with -Pkubernetes, or a Spark
# distribution in SPARK_HOME.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

die() {
  echo "k8s/submit.sh: $*" >&2
  exit 2
}

master=${K8S_MASTER:-}
image=${PERL_IMAGE:-}
namespace=""
executors=2
gpu=false
dry_run=false
source "$(dirname "${BASH_SOURCE[0]}")/../lib/submit-args.sh"
split_at_dashes "$@"
set -- "${passed[@]}"
passed=()
while (($#)); do
  case $1 in
    --master) master=${2:?}; shift 2 ;;
    --image) image=${2:?}; shift 2 ;;
    --namespace) namespace=${2:?}; shift 2 ;;
    --executors) executors=${2:?}; shift 2 ;;
    --gpu) gpu=true; shift ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) passed+=("$1"); shift ;;
  esac
done
((${#app[@]})) || die "no perl subcommand after '--'"
[[ $master == k8s://* ]] || die "--master '${master}': expected k8s://https://API-SERVER:PORT (or set K8S_MASTER)"
[[ -n $image ]] || die "no image: give --image REGISTRY/perl-spark:TAG (or set PERL_IMAGE)"
[[ $executors =~ ^[1-9][0-9]*$ ]] || die "--executors $executors: expected a number >= 1"
if ! $dry_run && [[ -z ${SPARK_HOME:-} ]] && ! compgen -G "$root/deploy/spark-dist/target/jars/spark-kubernetes_*.jar" >/dev/null; then
  die "Spark's Kubernetes client is missing: (cd $root && mvn -B -f deploy/spark-dist/pom.xml -Pkubernetes package), or set SPARK_HOME"
fi

template=$here/executor-pod-template.yaml
$gpu && template=$here/executor-pod-template-gpu.yaml

props=$(mktemp "${TMPDIR:-/tmp}/perl-k8s.XXXXXX.conf")
trap 'rm -f "$props"' EXIT
{
  cat "$root/conf/spark-defaults-cluster.conf" "$here/spark-k8s.conf"
  if $gpu; then cat "$root/conf/spark-defaults-gpu.conf"; fi
  echo
  echo "# derived by deploy/k8s/submit.sh"
  echo "spark.master $master"
  echo "spark.submit.deployMode cluster"
  echo "spark.kubernetes.container.image $image"
  [[ -n $namespace ]] && echo "spark.kubernetes.namespace $namespace"
  echo "spark.kubernetes.driver.podTemplateFile $here/driver-pod-template.yaml"
  echo "spark.kubernetes.executor.podTemplateFile $template"
  echo "spark.executor.instances $executors"
  # The trainer partitions its data by this: pinned, so a replaced executor pod changes nothing.
  echo "spark.default.parallelism $executors"
} >"$props"
# One training task per executor JVM: task cpus = executor cores (the last value set wins).
cores=$(sed -nE 's/^spark\.executor\.cores[[:space:]]+([0-9]+).*/\1/p' "$props" | tail -1)
echo "spark.task.cpus ${cores:-1}" >>"$props"

export PERL_APP_JAR=${PERL_APP_JAR:-local:///opt/perl-spark/perl-spark-jobs-app.jar}
if $dry_run; then
  cat "$props"
  echo "# would run: PERL_APP_JAR=$PERL_APP_JAR deploy/spark-submit.sh --properties-file <this> ${passed[*]} -- ${app[*]}"
  exit 0
fi
"$root/deploy/spark-submit.sh" --properties-file "$props" "${passed[@]}" -- "${app[@]}" &
submitter=$!
trap 'kill -TERM "$submitter" 2>/dev/null || true' INT TERM
status=0
wait "$submitter" || status=$?
while kill -0 "$submitter" 2>/dev/null; do
  wait "$submitter" || status=$?
done
exit "$status"
