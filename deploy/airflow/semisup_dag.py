"""Scheduled Airflow DAG of semisup: one validation task, then one task per pipeline stage, each a
YARN application submitted by Airflow's own SparkSubmitOperator (Apache Spark provider).

Tasks
  validate-config   checks the run's configuration once (`semisup config --check` through
                    spark-submit --master local, seconds, no cluster work): a typo in a param or a
                    setting fails here, once, without retries.
  <stage> ...       one SparkSubmitOperator per stage of the stage graph, read from stages.json
                    beside this file (generated from StageGraph: `bin/semisup stages --json >
                    deploy/airflow/stages.json`; StagesJsonTest keeps it equal to the code).
                    Master, queue and deploy mode come from the Spark connection (conn id
                    SEMISUP_SPARK_CONN, default spark_default: host `yarn`, extra
                    {"queue": "...", "deploy-mode": "cluster"}), so killing a task or hitting its
                    timeout kills its YARN application (the hook's on_kill), and a retry never
                    starts a second writer beside a running one.
  <stage>_r<r>      rounds 2..MAX_ROUNDS of self-training (the stages after shard, taught by round
                    r-1's fine-tuned student: io.semisup.jobs.stages.Rounds); they skip themselves
                    beyond the run's rounds: its `rounds` param, or when that is empty the
                    configuration's (validate-config prints it: the preset's, with one).

Run ids: a scheduled run is the semisup run `sched-<data interval start>--<end>` (UTC, minutes), so
each interval has its own run directory and a rerun of the same interval finds its commits; a
manual run uses its Airflow run id, made directory-safe. Stages commit their output (_SUCCESS +
manifest.json) and a committed stage with the same settings and inputs is skipped: a cleared task
resubmits, finds its stage committed, and ends without work.

A pool that grew: with the `reuse_previous` param (default true) each scheduled run passes the
previous successful scheduled run as `shard.reuse-run` and `score.reuse-run`. shard then reads and
decodes only files that run has not (same uri, split and size), and score takes that run's scores
for every image (by content hash) it already scored, when the teacher is the same bytes (a teacher
brought with score.teacher-onnx, or shared with base-run + shared-stages=[teacher]) and the
scoring settings agree, running the teacher on the new images only; select ranks all of them.

Params (Trigger DAG w/ config): preset, seed, k, p, rounds, gpu, settings (free `key=value`
settings, each passed as --set), the input folders, reuse_previous. Empty values keep
conf/defaults.conf.

Parse-time settings from the scheduler's environment (they shape the DAG, not one run):
SEMISUP_HOME (the semisup checkout with the built app jar on the workers, default /opt/semisup),
SEMISUP_SCHEDULE (cron or preset, default @weekly; `none` for manual runs only), SEMISUP_POOL
(default semisup: create it with `airflow pools set semisup 4 "semisup stages"`),
SEMISUP_SPARK_CONN. Failure hook: every failed task calls on_task_failure, which logs one line and
runs the worker's SEMISUP_FAILURE_COMMAND (if set) with SEMISUP_FAILED_TASK, SEMISUP_RUN_ID and
SEMISUP_LOG_URL in its environment (mail, chat, pager).
"""

import json
import logging
import os
import re
import shlex
import subprocess
from datetime import datetime, timedelta

# Airflow 3 moved the authoring API to airflow.sdk and the core operators to the standard provider.
try:
    from airflow.sdk import DAG, Param
except ImportError:
    from airflow import DAG
    from airflow.models.param import Param
try:
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:
    from airflow.operators.bash import BashOperator
from airflow.exceptions import AirflowFailException, AirflowSkipException
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

LOG = logging.getLogger(__name__)

HERE = os.path.dirname(os.path.abspath(__file__))
SEMISUP_HOME = os.environ.get("SEMISUP_HOME", "/opt/semisup")
APP_JAR = os.path.join(SEMISUP_HOME, "pipeline-jobs/target/pipeline-jobs-0.1.0-SNAPSHOT-app.jar")
SCHEDULE = os.environ.get("SEMISUP_SCHEDULE", "@weekly")
POOL = os.environ.get("SEMISUP_POOL", "semisup")
SPARK_CONN = os.environ.get("SEMISUP_SPARK_CONN", "spark_default")

# Rounds of self-training the DAG has tasks for; a run's rounds (run_rounds) picks how many run,
# and a run asking for more fails instead of running fewer.
MAX_ROUNDS = 4
# Stages that later rounds read from round 1 instead of running again.
ROUND_1_ONLY = ("import-fashion-mnist", "shard")
VALIDATE = "validate-config"
# Exit code of a usage or configuration error (io.semisup.core.UsageError).
USAGE_ERROR = 2


def load_stages(path=os.path.join(HERE, "stages.json")):
    """The stage graph as `bin/semisup stages --json` prints it: [(name, depends_on, main_class)]."""
    with open(path) as f:
        return [(s["name"], list(s["depends_on"]), s["main_class"]) for s in json.load(f)["stages"]]


STAGES = load_stages()


def yarn_defaults(path=os.path.join(SEMISUP_HOME, "conf", "yarn.conf")):
    """The quoted "spark.*" = "value" lines of conf/yarn.conf: every memory default of a YARN run."""
    values = {}
    if os.path.exists(path):
        with open(path) as f:
            for m in re.finditer(r'^\s*"(spark\.[^"]+)"\s*=\s*"([^"]*)"', f.read(), re.M):
                values[m.group(1)] = m.group(2)
    return values


def _safe(text):
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", text).strip("._-")
    return safe or "run"


def _interval_id(start, end):
    return "sched-%s--%s" % (start.strftime("%Y%m%dT%H%M"), end.strftime("%Y%m%dT%H%M"))


def _run_type(context):
    run_type = getattr(context.get("dag_run"), "run_type", None)
    return str(getattr(run_type, "value", run_type) or "")


def semisup_run_id(context):
    """A scheduled run's semisup run id comes from its data interval; any other from its run id."""
    if _run_type(context) == "scheduled" and context.get("data_interval_start") is not None:
        return _interval_id(context["data_interval_start"], context["data_interval_end"])
    return _safe(context["run_id"])


def previous_run_id(context):
    """The semisup run of the previous successful scheduled interval, or None."""
    start = context.get("prev_data_interval_start_success")
    end = context.get("prev_data_interval_end_success")
    if start is None or end is None:
        return None
    previous = _interval_id(start, end)
    return previous if previous != semisup_run_id(context) else None


def stage_arguments(context, round_=1):
    """The semisup command line options of one task, from the run's params (nothing pasted into a shell)."""
    params = context["params"]
    args = ["--run-id", semisup_run_id(context)]
    if round_ > 1:
        args += ["--round", str(round_)]
    if params.get("preset"):
        args += ["--preset", params["preset"]]
    sets = []
    if params.get("seed") is not None:
        sets.append("seed=%d" % params["seed"])
    if params.get("k") is not None:
        sets.append("select.k=%d" % params["k"])
    if params.get("p") is not None:
        sets.append("select.p=%d" % params["p"])
    # Quoted as HOCON strings so "hdfs://..." is not read as a comment.
    for param, key in (("train_dir", "data.train-dir"), ("val_dir", "data.val-dir"),
                       ("validation_dir", "data.validation-dir"),
                       ("unlabelled_dir", "data.unlabelled-dir"),
                       ("unlabelled_listing", "data.unlabelled-listing"),
                       ("hidden_labels", "data.hidden-labels")):
        if params.get(param):
            sets.append('%s=%s' % (key, json.dumps(params[param])))
    if params.get("gpu"):
        sets.append("score.cuda=true")
    previous = previous_run_id(context) if params.get("reuse_previous", True) else None
    if previous:
        sets.append("shard.reuse-run=%s" % previous)
        sets.append("score.reuse-run=%s" % previous)
    sets += list(params.get("settings") or [])
    for s in sets:
        args += ["--set", s]
    return args


def run_rounds(context):
    """Rounds this run trains: the `rounds` param if given, else what the configuration says (2 by
    default, or the preset's), as the validate-config task resolved it."""
    if context["params"].get("rounds") is not None:
        return int(context["params"]["rounds"])
    resolved = context["task_instance"].xcom_pull(task_ids=VALIDATE)
    if resolved is None or not str(resolved).strip().isdigit():
        raise AirflowFailException("Cannot tell how many rounds to run: the %s task gave %r, not the"
                                   " configuration's rounds. Set the run's rounds param." % (VALIDATE, resolved))
    rounds = int(str(resolved).strip())
    if rounds > MAX_ROUNDS:
        raise AirflowFailException("The configuration asks for %d rounds; this DAG has tasks for %d."
                                   " Raise MAX_ROUNDS in semisup_dag.py or set the run's rounds param."
                                   % (rounds, MAX_ROUNDS))
    return rounds


def gpu_conf(context):
    """What --gpu of submit.sh adds: GPUs per executor from YARN, shared by the executor's tasks."""
    if not context["params"].get("gpu"):
        return {}
    cores = float(yarn_defaults().get("spark.executor.cores", "4"))
    return {
        "spark.executor.resource.gpu.amount": "1",
        "spark.task.resource.gpu.amount": "%.4g" % (1 / cores),
        "spark.executor.resource.gpu.discoveryScript": "./discover_gpus.sh",
    }


def _set(op, name, value):
    """Sets a SparkSubmitOperator field whichever way the provider version spells it (x or _x)."""
    setattr(op, name if hasattr(op, name) or not hasattr(op, "_" + name) else "_" + name, value)


def on_task_failure(context):
    """The failure hook: one log line, then the worker's SEMISUP_FAILURE_COMMAND, if any."""
    ti = context.get("task_instance")
    task = getattr(ti, "task_id", "?")
    run_id = semisup_run_id(context) if "run_id" in context else "?"
    url = getattr(ti, "log_url", "")
    LOG.error("semisup: task %s of run %s failed: %s (%s)", task, run_id, context.get("exception"), url)
    command = os.environ.get("SEMISUP_FAILURE_COMMAND")
    if command:
        env = dict(os.environ, SEMISUP_FAILED_TASK=task, SEMISUP_RUN_ID=run_id, SEMISUP_LOG_URL=url or "")
        subprocess.run(["bash", "-c", command], env=env, check=False, timeout=60)


class SemisupStageOperator(SparkSubmitOperator):
    """One stage as a YARN application. Its arguments depend on the run (params, data interval), so
    they are set in execute(), before the provider's execute builds the spark-submit command."""

    def __init__(self, stage, main_class, round_=1, **kwargs):
        defaults = yarn_defaults()
        conf = {k: v for k, v in defaults.items() if k not in (
            "spark.driver.memory", "spark.executor.memory", "spark.executor.cores",
            "spark.executor.instances")}
        # Spark on Java 17 needs the --add-opens the build writes next to the jar (as submit.sh).
        opens_file = os.path.join(SEMISUP_HOME, "pipeline-jobs/target/launcher/jvm.options")
        opens = open(opens_file).read().strip() if os.path.exists(opens_file) else ""
        java_opts = (opens + " -XX:+UseG1GC -Dorg.eclipse.deeplearning4j.helpers.disable=false").strip()
        conf.update({
            "spark.driver.extraJavaOptions": java_opts,
            "spark.executor.extraJavaOptions": java_opts,
            # Airflow retries a failed stage; a second YARN attempt would only hide failures.
            "spark.yarn.maxAppAttempts": "1",
            "spark.yarn.tags": "semisup,semisup-stage-%s" % stage,
        })
        super().__init__(
            application=APP_JAR,
            java_class=main_class,
            conn_id=SPARK_CONN,
            name="semisup-%s" % stage,
            conf=conf,
            driver_memory=defaults.get("spark.driver.memory"),
            executor_memory=defaults.get("spark.executor.memory"),
            executor_cores=int(defaults["spark.executor.cores"]) if "spark.executor.cores" in defaults else None,
            num_executors=int(defaults["spark.executor.instances"]) if "spark.executor.instances" in defaults else None,
            **kwargs)
        self.stage = stage
        self.round_ = round_

    def prepare(self, context):
        """Sets the run-dependent fields; execute() calls it, the DAG test calls it directly."""
        if self.round_ > 1:
            rounds = run_rounds(context)
            if self.round_ > rounds:
                raise AirflowSkipException("round %d is beyond this run's %d rounds" % (self.round_, rounds))
        params = context["params"]
        if self.stage == "import-fashion-mnist" and params.get("train_dir") and params.get("val_dir") \
                and (params.get("unlabelled_dir") or params.get("unlabelled_listing")):
            raise AirflowSkipException("input folders given: the Fashion-MNIST import is not needed")
        run_id = semisup_run_id(context)
        _set(self, "name", "semisup-%s-%s" % (self.stage, run_id))
        _set(self, "application_args", ["--env", "yarn"] + stage_arguments(context, self.round_))
        conf = dict(getattr(self, "conf", None) or getattr(self, "_conf", None) or {})
        conf.update(gpu_conf(context))
        conf["spark.yarn.tags"] = "semisup,semisup-run-%s,semisup-stage-%s" % (run_id, self.stage)
        _set(self, "conf", conf)
        if context["params"].get("gpu"):
            _set(self, "files", os.path.join(SEMISUP_HOME, "deploy/yarn/discover_gpus.sh"))

    def execute(self, context):
        self.prepare(context)
        return super().execute(context)


class ValidateConfigOperator(BashOperator):
    """Runs `semisup config --check` with every stage's settings through spark-submit --master local:
    a rejected configuration (exit 2) fails the DAG run here, at once and without retries. Its last
    line, the configuration's `rounds` (the preset's, or a `settings` override), is its XCom value:
    run_rounds reads it when the run's `rounds` param is empty."""

    def __init__(self, **kwargs):
        super().__init__(bash_command="true", **kwargs)

    def prepare(self, context):
        command = ["spark-submit", "--master", "local", "--deploy-mode", "client",
                   "--class", "io.semisup.jobs.cli.SemisupCli", "--conf", "spark.ui.enabled=false",
                   "--driver-java-options",
                   "-Dlog4j2.configurationFile=%s/conf/log4j2.properties" % SEMISUP_HOME,
                   APP_JAR, "config", "--check", "--get", "rounds", "--env", "yarn"] + stage_arguments(context)
        spark_submit = '"${SPARK_SUBMIT:-spark-submit}"'
        self.bash_command = " ".join([spark_submit] + [shlex.quote(a) for a in command[1:]])

    def execute(self, context):
        self.prepare(context)
        try:
            return super().execute(context)
        except AirflowSkipException:
            raise
        except Exception as e:
            raise AirflowFailException(
                "semisup rejected the run's settings (see the 'semisup: ' line above): not retrying."
                " Fix the param or setting it names and trigger a new run.") from e


def task_id(stage, round_):
    """Round 1 keeps the stage names; round r > 1 appends _r<r>."""
    return stage if round_ == 1 or stage in ROUND_1_ONLY else "%s_r%d" % (stage, round_)


with DAG(
    dag_id="semisup",
    description="Teacher/student semi-supervised learning (Yalniz et al. 2019) on YARN",
    schedule=None if SCHEDULE.lower() == "none" else SCHEDULE,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=24),
        "pool": POOL,
        "on_failure_callback": on_task_failure,
    },
    params={
        "preset": Param("", type="string", enum=["", "best"], description="A settings preset (conf/preset-<name>.conf); empty: none"),
        "seed": Param(None, type=["null", "integer"], description="Seed of every random choice (empty: conf/defaults.conf)"),
        "k": Param(None, type=["null", "integer"], minimum=1, description="Images selected per class (select.k; empty: conf/defaults.conf)"),
        "p": Param(None, type=["null", "integer"], minimum=1, description="Classes an image may be selected for (select.p; empty: conf/defaults.conf)"),
        "rounds": Param(None, type=["null", "integer"], minimum=1, maximum=MAX_ROUNDS, description="Rounds of self-training (empty: the configuration's: conf/defaults.conf's, or the preset's)"),
        "gpu": Param(False, type="boolean", description="GPU executors: YARN GPUs and CUDA scoring (app jar built with -Pcuda)"),
        "settings": Param([], type="array", items={"type": "string"}, description="More settings, each key=value (passed as --set)"),
        "reuse_previous": Param(True, type="boolean", description="Read, decode and score only the images the previous scheduled run has not (its scores only when the teacher is the same bytes)"),
        "train_dir": Param("", type="string", description="Labelled training images, <dir>/<class>/<file> (empty: Fashion-MNIST import)"),
        "val_dir": Param("", type="string", description="Labelled held-out images, <dir>/<class>/<file> (empty: Fashion-MNIST import)"),
        "validation_dir": Param("", type="string", description="Validation images to choose settings on, <dir>/<class>/<file>; not the test images (empty: the import's validation split, or settings' data.validation-fraction)"),
        "unlabelled_dir": Param("", type="string", description="Unlabelled images, any tree (empty: Fashion-MNIST import)"),
        "unlabelled_listing": Param("", type="string", description="Text file of unlabelled image URIs, one per line (overrides unlabelled_dir)"),
        "hidden_labels": Param("", type="string", description="CSV file,label of the unlabelled images' true labels, to measure precision"),
    },
    tags=["semisup"],
) as dag:
    validate = ValidateConfigOperator(task_id=VALIDATE, retries=0)
    tasks = {}
    for round_ in range(1, MAX_ROUNDS + 1):
        for stage, depends_on, main_class in STAGES:
            if round_ > 1 and stage in ROUND_1_ONLY:
                continue
            task = SemisupStageOperator(task_id=task_id(stage, round_), stage=stage,
                                        main_class=main_class, round_=round_,
                                        # shard still runs when the import skipped itself.
                                        trigger_rule="none_failed")
            tasks[task.task_id] = task
            if not depends_on:
                validate >> task
            for upstream in depends_on:
                tasks[task_id(upstream, round_)] >> task
            if round_ > 1 and stage == "teacher":
                # Round r's teacher is round r-1's fine-tuned student.
                tasks[task_id("finetune", round_ - 1)] >> task
