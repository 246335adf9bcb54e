#!/usr/bin/env bash
# Submits one semisup stage to YARN: spark-submit --master yarn with the application jar.
#
#   deploy/yarn/submit.sh <stage> --run-id ID [--gpu] [--dry-run] [stage options...]
#   deploy/yarn/submit.sh --list
#
# Each stage is its own YARN application; stages of one run share <root>/<run-id>/ on HDFS and
# a committed stage is skipped, so resubmitting a finished stage (an Airflow retry or rerun)
# does nothing. Stage options are the CLI's: --set key=value, --root, --config, --force.
# --gpu asks YARN for GPUs per executor (needs the app jar built with -Pcuda).
#
# Exit status: 0 done (or already committed), 2 a usage or configuration error (do not retry:
# fix the setting the `semisup: ` line names), 1 or other a failed job. submit.sh does not retry;
# Airflow retries only non-2 failures. In cluster mode spark-submit exits 1 for any failed
# application, whatever the driver's status, so submit.sh first resolves the configuration on
# this machine (`semisup config` through spark-submit --master local, a few seconds, no cluster
# work) and exits 2 if it is rejected; errors the driver finds later (a missing input on HDFS,
# a stage whose inputs are not committed) end as 1. In client mode the driver's status is
# spark-submit's.
#
# Settings from the environment (defaults sized for Fashion-MNIST-to-ImageNet-scale CPU runs;
# see docs/sizing.md for 10^6..10^9 images):
#   SPARK_SUBMIT                      spark-submit command          (spark-submit)
#   SEMISUP_APP_JAR                   application jar               (pipeline-jobs/target/pipeline-jobs-0.1.0-SNAPSHOT-app.jar)
#   SEMISUP_DEPLOY_MODE               cluster or client             (cluster)
#   SEMISUP_QUEUE                     YARN queue                    (default)
#   SEMISUP_DRIVER_MEMORY             driver heap                   (8g)
#   SEMISUP_NUM_EXECUTORS             executors                     (10)
#   SEMISUP_EXECUTOR_CORES            cores per executor            (4)
#   SEMISUP_EXECUTOR_MEMORY           executor heap                 (8g)
#   SEMISUP_EXECUTOR_MEMORY_OVERHEAD  off-heap room (ND4J, ONNX Runtime, CUDA) per executor (6g)
#   SEMISUP_GPUS_PER_EXECUTOR         GPUs per executor with --gpu  (1)
#   SEMISUP_SPARK_OPTS                more spark-submit options, word-split (e.g. --properties-file f)
#   SEMISUP_DL4J_HELPERS_DISABLE      true turns off DL4J's oneDNN layer helpers (false)
#   SEMISUP_PREFLIGHT                 false skips the configuration check before a cluster-mode submit (true)
set -euo pipefail

home="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$home/deploy/yarn"

# The stage graph's names, in order (StageGraph.standard(); DagMatchesStageGraphTest keeps them equal).
STAGES=(import-fashion-mnist shard teacher score dedup select student finetune evaluate report)

die() { echo "submit.sh: $*" >&2; exit 2; }

usage() {
  sed -n '2,35p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

[ $# -ge 1 ] || usage 2
case "$1" in
  -h|--help) usage 0 ;;
  --list) printf '%s\n' "${STAGES[@]}"; exit 0 ;;
esac

stage="$1"; shift
known=" ${STAGES[*]} "
[[ "$known" == *" $stage "* ]] || die "Cannot submit stage '$stage': no such stage. Known stages: ${STAGES[*]}."

# import-fashion-mnist -> ImportFashionMnistStage: every stage class has a main for spark-submit.
class="io.semisup.jobs.stages.$(echo "$stage" | awk -F- '{for (i = 1; i <= NF; i++) printf "%s%s", toupper(substr($i, 1, 1)), substr($i, 2)}')Stage"

gpu=false
dry_run=false
run_id=""
stage_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --gpu) gpu=true ;;
    --dry-run) dry_run=true ;;
    --run-id) [ $# -ge 2 ] || die "Cannot read --run-id: it needs a value."; run_id="$2"; stage_args+=("$1" "$2"); shift ;;
    --run-id=*) run_id="${1#--run-id=}"; stage_args+=("$1") ;;
    --env|--env=*) die "Cannot pass --env: submit.sh always runs with --env yarn (conf/yarn.conf). Use --config FILE or --set key=value for other settings." ;;
    *) stage_args+=("$1") ;;
  esac
  shift
done
[ -n "$run_id" ] || die "Cannot submit stage $stage without --run-id: every stage is its own YARN application and stages find each other's output only through the run id. Pass --run-id ID (the same for every stage of a run)."
[[ "$run_id" =~ ^[A-Za-z0-9._-]+$ ]] || die "Cannot use run id '$run_id': only letters, digits, '.', '_' and '-' are allowed (it is a directory name on HDFS)."

jar="${SEMISUP_APP_JAR:-$home/pipeline-jobs/target/pipeline-jobs-0.1.0-SNAPSHOT-app.jar}"
spark_submit="${SPARK_SUBMIT:-spark-submit}"
if ! $dry_run; then
  [ -f "$jar" ] || die "Cannot submit: application jar $jar not found. Build it with 'mvn -DskipTests package' (add -Pcuda for GPU executors) or set SEMISUP_APP_JAR."
  command -v "${spark_submit%% *}" >/dev/null || die "Cannot submit: '$spark_submit' not found. Put Spark 3.5's bin/ on PATH or set SPARK_SUBMIT."
fi

cores="${SEMISUP_EXECUTOR_CORES:-4}"
# Spark on Java 17 needs these --add-opens in every JVM; the build writes them next to the jar.
opens_file="$home/pipeline-jobs/target/launcher/jvm.options"
opens="$( [ -f "$opens_file" ] && cat "$opens_file" || true)"
# DL4J's oneDNN layer helpers are off unless this property is false (docs/benchmarks.md, bench
# train: 5.6x per CPU second); the code sets it too, this keeps every JVM explicit.
java_opts="$opens -XX:+UseG1GC -Dorg.eclipse.deeplearning4j.helpers.disable=${SEMISUP_DL4J_HELPERS_DISABLE:-false}"

args=(
  --master yarn
  --deploy-mode "${SEMISUP_DEPLOY_MODE:-cluster}"
  --name "semisup-$stage-$run_id"
  --class "$class"
  --queue "${SEMISUP_QUEUE:-default}"
  --driver-memory "${SEMISUP_DRIVER_MEMORY:-8g}"
  --num-executors "${SEMISUP_NUM_EXECUTORS:-10}"
  --executor-cores "$cores"
  --executor-memory "${SEMISUP_EXECUTOR_MEMORY:-8g}"
  --conf "spark.executor.memoryOverhead=${SEMISUP_EXECUTOR_MEMORY_OVERHEAD:-6g}"
  --conf "spark.driver.memoryOverhead=${SEMISUP_DRIVER_MEMORY_OVERHEAD:-2g}"
  --conf "spark.driver.extraJavaOptions=$java_opts"
  --conf "spark.executor.extraJavaOptions=$java_opts"
  # Airflow (or the user) retries a failed stage; a second YARN attempt would only hide failures.
  --conf spark.yarn.maxAppAttempts=1
  --conf "spark.yarn.tags=semisup,semisup-run-$run_id,semisup-stage-$stage"
)
if $gpu; then
  gpus="${SEMISUP_GPUS_PER_EXECUTOR:-1}"
  # Tasks of an executor share its GPUs (one model per executor JVM, see ExecutorModels).
  task_gpus="$(awk -v g="$gpus" -v c="$cores" 'BEGIN { printf "%.4g", g / c }')"
  args+=(
    --files "$here/discover_gpus.sh"
    --conf "spark.executor.resource.gpu.amount=$gpus"
    --conf "spark.task.resource.gpu.amount=$task_gpus"
    --conf spark.executor.resource.gpu.discoveryScript=./discover_gpus.sh
  )
fi
# shellcheck disable=SC2206 # word splitting is the point of SEMISUP_SPARK_OPTS
extra=(${SEMISUP_SPARK_OPTS:-})
cmd=("$spark_submit" "${args[@]}" "${extra[@]}" "$jar" --env yarn "${stage_args[@]}")

if $dry_run; then
  printf '%q ' "${cmd[@]}"; echo
  exit 0
fi
# Cluster mode loses the driver's exit status: check the configuration here first, where a usage
# error (exit 2) still reaches the caller. Its stdout (the resolved configuration) is not needed;
# with semisup's log4j setup a rejection is one line on stderr (stack trace: semisup-$USER.log in Java's temporary directory).
if [ "${SEMISUP_DEPLOY_MODE:-cluster}" = cluster ] && [ "${SEMISUP_PREFLIGHT:-true}" = true ]; then
  preflight=("$spark_submit" --master local --deploy-mode client --class io.semisup.jobs.cli.SemisupCli
    --conf spark.ui.enabled=false --driver-java-options "-Dlog4j2.configurationFile=$home/conf/log4j2.properties"
    "$jar" config --env yarn "${stage_args[@]}")
  status=0
  "${preflight[@]}" >/dev/null || status=$?
  if [ "$status" -eq 2 ]; then
    echo "submit.sh: not submitting $stage of run $run_id: its configuration is rejected (above)." >&2
    exit 2
  elif [ "$status" -ne 0 ]; then
    echo "submit.sh: configuration check of $stage exited with $status; submitting anyway, the driver will check again." >&2
  fi
fi
echo "submit.sh: $stage of run $run_id -> YARN (${SEMISUP_DEPLOY_MODE:-cluster} mode)" >&2
exec "${cmd[@]}"
