"""Airflow DAG of one semisup run: one task per pipeline stage, each a YARN application.

Every task calls deploy/yarn/submit.sh with the Airflow run's id (sanitized) as the semisup run
id. Stages commit their output (_SUCCESS + manifest.json under <root>/<run-id>/<stage>/), and a
committed stage is skipped, so retries and a rerun of a finished DAG run do no work again: a
cleared task resubmits, finds its stage committed, and ends in about a minute.

The task list and dependencies are the stage graph (`bin/semisup stages --json`); the test
DagMatchesStageGraphTest checks they stay equal.

Iterated self-training: with SEMISUP_ROUNDS=N (read when the scheduler parses this file, default
1) the DAG gets, for each round r = 2..N, the tasks teacher_r<r> .. report_r<r>. They submit the
same stages with `--round r`, which makes them the semisup run <run-id>.r<r>: round 1's import and
shard, and round r-1's fine-tuned student as the teacher (io.semisup.jobs.stages.Rounds).

Exit status: submit.sh and the semisup command line exit 2 for a mistake the user must fix (an
unknown configuration key, a missing input, a bad option) and 1 for a failed job. A task that
exits 2 fails at once, without retries (SemisupStageOperator): resubmitting a typo cannot help.
In YARN cluster mode the driver's status does not reach spark-submit, which exits 1 for any failed
application; submit.sh therefore checks the configuration on the worker first (its pre-flight), so
configuration errors still exit 2 there. Errors the driver finds later (e.g. a missing input
folder on HDFS) are retried like job failures in cluster mode.

Settings: SEMISUP_HOME (the semisup checkout with the built app jar on the Airflow worker,
default /opt/semisup), SEMISUP_ROUNDS, and the SEMISUP_* variables of submit.sh, from the
worker's environment.
Changing K or P needs a new DAG run (a new run id): a finished run keeps its committed selection.
"""

import os
import re
from datetime import datetime, timedelta
from functools import cached_property

from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.hooks.subprocess import SubprocessHook
from airflow.models.param import Param
from airflow.operators.bash import BashOperator

# The stage graph, in order: (stage, stages it depends on). Must equal `bin/semisup stages --json`.
STAGES = [
    ("import-fashion-mnist", []),
    ("shard", ["import-fashion-mnist"]),
    ("teacher", ["shard"]),
    ("score", ["shard", "teacher"]),
    ("dedup", ["shard", "teacher", "score"]),
    ("select", ["score", "dedup"]),
    ("student", ["shard", "select"]),
    ("finetune", ["shard", "student"]),
    ("evaluate", ["select", "teacher", "student", "finetune"]),
    ("report", ["select", "evaluate"]),
]

SEMISUP_HOME = os.environ.get("SEMISUP_HOME", "/opt/semisup")
ROUNDS = int(os.environ.get("SEMISUP_ROUNDS", "1"))
if ROUNDS < 1:
    raise ValueError("Cannot build the semisup DAG with SEMISUP_ROUNDS=%d: use 1 or more." % ROUNDS)

# Stages that later rounds run again; they read import and shard from round 1.
ROUND_1_ONLY = ("import-fashion-mnist", "shard")

# Exit code BashOperator turns into "skipped" (Airflow >= 2.6).
SKIP = 99

# Exit code of a usage or configuration error (io.semisup.core.UsageError, submit.sh's own checks).
USAGE_ERROR = 2


class _ExitCodeRecorder:
    """BashOperator's subprocess hook, remembering the exit code of the command it ran."""

    def __init__(self, hook):
        self._hook = hook
        self.exit_code = None

    def run_command(self, *args, **kwargs):
        result = self._hook.run_command(*args, **kwargs)
        self.exit_code = result.exit_code
        return result

    def __getattr__(self, name):
        return getattr(self._hook, name)


class SemisupStageOperator(BashOperator):
    """A BashOperator whose exit code 2 (a usage error) fails the task without retries.

    BashOperator reports every non-zero exit the same way, so Airflow would retry a typo in a
    setting `retries` times with back-off; AirflowFailException ends the task at once.
    """

    @cached_property
    def subprocess_hook(self):
        return _ExitCodeRecorder(SubprocessHook())

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowException as e:
            if self.subprocess_hook.exit_code == USAGE_ERROR:
                raise AirflowFailException(
                    "semisup rejected the task's settings or inputs (exit code %d): not retrying. "
                    "Fix what the log's 'semisup: ' line names and clear the task." % USAGE_ERROR) from e
            raise


def semisup_run_id(airflow_run_id):
    """Airflow run ids (manual__2024-05-01T10:00:00+00:00) -> a directory-safe semisup run id."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", airflow_run_id).strip("._-")
    return safe or "run"


# Values reach the shell as environment variables, never pasted into the command line.
ENV = {
    "SEMISUP_RUN_ID": "{{ run_id | semisup_run_id }}",
    "SEMISUP_K": "{{ params.k if params.k is not none else '' }}",
    "SEMISUP_P": "{{ params.p if params.p is not none else '' }}",
    "SEMISUP_TRAIN_DIR": "{{ params.train_dir }}",
    "SEMISUP_VAL_DIR": "{{ params.val_dir }}",
    "SEMISUP_UNLABELLED_DIR": "{{ params.unlabelled_dir }}",
    "SEMISUP_UNLABELLED_LISTING": "{{ params.unlabelled_listing }}",
    "SEMISUP_HIDDEN_LABELS": "{{ params.hidden_labels }}",
}

# Builds the stage options from the params; an empty param keeps the configured default
# (conf/defaults.conf; for the paths, the Fashion-MNIST import of the same run). Quoting the
# values as HOCON strings keeps "hdfs://..." from being read as a comment.
COMMAND = """set -euo pipefail
args=()
if [ -n "$SEMISUP_K" ]; then args+=(--set "select.k=$SEMISUP_K"); fi
if [ -n "$SEMISUP_P" ]; then args+=(--set "select.p=$SEMISUP_P"); fi
add() { if [ -n "$2" ]; then args+=(--set "$1=\\"$2\\""); fi; }
add data.train-dir "$SEMISUP_TRAIN_DIR"
add data.val-dir "$SEMISUP_VAL_DIR"
add data.unlabelled-dir "$SEMISUP_UNLABELLED_DIR"
add data.unlabelled-listing "$SEMISUP_UNLABELLED_LISTING"
add data.hidden-labels "$SEMISUP_HIDDEN_LABELS"
"""

# With the user's own folders, the Fashion-MNIST import has nothing to do: skip it.
IMPORT_GUARD = """if [ -n "$SEMISUP_TRAIN_DIR" ] && [ -n "$SEMISUP_VAL_DIR" ] && \\
   { [ -n "$SEMISUP_UNLABELLED_DIR" ] || [ -n "$SEMISUP_UNLABELLED_LISTING" ]; }; then
  echo "input folders given: the Fashion-MNIST import is not needed"; exit %d
fi
""" % SKIP


def stage_command(stage, round_=1):
    guard = IMPORT_GUARD if stage == "import-fashion-mnist" else ""
    round_arg = " --round %d" % round_ if round_ > 1 else ""
    # Ends without ".sh" on purpose: BashOperator would take a command ending so for a template file.
    return (COMMAND + guard
            + '"%s/deploy/yarn/submit.sh" %s --run-id "$SEMISUP_RUN_ID"%s "${args[@]}"'
            % (SEMISUP_HOME, stage, round_arg))


def task_id(stage, round_):
    """Round 1 keeps the stage names; round r > 1 appends _r<r>."""
    return stage if round_ == 1 or stage in ROUND_1_ONLY else "%s_r%d" % (stage, round_)


with DAG(
    dag_id="semisup",
    description="Teacher/student semi-supervised learning (Yalniz et al. 2019) on YARN",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    user_defined_filters={"semisup_run_id": semisup_run_id},
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=24),
    },
    params={
        "k": Param(None, type=["null", "integer"], minimum=1, description="Images selected per class (select.k; empty: conf/defaults.conf)"),
        "p": Param(None, type=["null", "integer"], minimum=1, description="Classes an image may be selected for (select.p; empty: conf/defaults.conf)"),
        "train_dir": Param("", type="string", description="Labelled training images, <dir>/<class>/<file> (empty: Fashion-MNIST import)"),
        "val_dir": Param("", type="string", description="Labelled held-out images, <dir>/<class>/<file> (empty: Fashion-MNIST import)"),
        "unlabelled_dir": Param("", type="string", description="Unlabelled images, any tree (empty: Fashion-MNIST import)"),
        "unlabelled_listing": Param("", type="string", description="Text file of unlabelled image URIs, one per line (overrides unlabelled_dir)"),
        "hidden_labels": Param("", type="string", description="CSV file,label of the unlabelled images' true labels, to measure precision"),
    },
    tags=["semisup"],
) as dag:
    tasks = {}
    for round_ in range(1, ROUNDS + 1):
        for stage, depends_on in STAGES:
            if round_ > 1 and stage in ROUND_1_ONLY:
                continue
            task = SemisupStageOperator(
                task_id=task_id(stage, round_),
                bash_command=stage_command(stage, round_),
                env=ENV,
                append_env=True,
                skip_on_exit_code=SKIP,
                # shard still runs when the import was skipped for the user's own folders.
                trigger_rule="none_failed",
            )
            tasks[task.task_id] = task
            for upstream in depends_on:
                tasks[task_id(upstream, round_)] >> task
            if round_ > 1 and stage == "teacher":
                # Round r's teacher is round r-1's fine-tuned student.
                tasks[task_id("finetune", round_ - 1)] >> task
