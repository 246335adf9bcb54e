"""Loads an Airflow DAG file WITHOUT Airflow: stub modules stand in for Airflow 2.x's layout
(airflow.DAG, airflow.models.param, airflow.operators.bash) or, with PROBE_AIRFLOW=3, Airflow 3's
(airflow.sdk, airflow.providers.standard.operators.bash; the 2.x paths then do not exist), plus
airflow.exceptions and the Apache Spark provider's SparkSubmitOperator. Every task and edge is
recorded and printed as JSON.

With PROBE_CONTEXT=<json> (run_type, run_id, data_interval_start/end and
prev_data_interval_start/end_success as ISO times, params overriding the DAG's defaults, xcom:
{task id: value} for xcom_pull, as the validate-config task would have pushed) each
task's prepare(context) runs and its run-dependent fields (application_args, name, conf, files;
the validation task's bash_command) are reported, or "skipped".
With PROBE_EXECUTE=<task id> that task also runs: the stub SparkSubmitOperator.execute runs the
spark-submit command the provider's hook would build (master and deploy mode from
PROBE_SPARK_MASTER / PROBE_DEPLOY_MODE, standing in for the Spark connection) with $SPARK_SUBMIT,
and the outcome is reported ("success", "skipped", "failed" (retried) or "failed_no_retry").

usage: python3 airflow_dag_probe.py DAG_FILE
"""
import json
import os
import subprocess
import sys
import types
from datetime import datetime

tasks = {}
dags = []
current_dag = []
AIRFLOW_3 = os.environ.get("PROBE_AIRFLOW") == "3"


class Param:
    def __init__(self, default=None, **kwargs):
        self.default = default
        self.kwargs = kwargs


class DAG:
    def __init__(self, dag_id, **kwargs):
        self.dag_id = dag_id
        self.kwargs = kwargs
        dags.append(self)

    def __enter__(self):
        current_dag.append(self)
        return self

    def __exit__(self, *exc):
        current_dag.pop()
        return False


class AirflowException(Exception):
    pass


class AirflowSkipException(AirflowException):
    pass


class AirflowFailException(AirflowException):
    pass


class BaseOperator:
    """What the DAG uses of Airflow's BaseOperator: task ids, default_args, edges."""

    def __init__(self, task_id, **kwargs):
        if task_id in tasks:
            raise SystemExit("duplicate task id " + task_id)
        defaults = dict(current_dag[-1].kwargs.get("default_args", {})) if current_dag else {}
        defaults.update(kwargs)
        self.task_id = task_id
        self.kwargs = defaults
        self.pool = defaults.get("pool")
        self.retries = defaults.get("retries")
        self.trigger_rule = defaults.get("trigger_rule", "all_success")
        self.on_failure_callback = defaults.get("on_failure_callback")
        self.upstream = []
        tasks[task_id] = self

    def __rshift__(self, other):
        for o in other if isinstance(other, (list, tuple)) else [other]:
            o.upstream.append(self.task_id)
        return other

    def __lshift__(self, other):
        for o in other if isinstance(other, (list, tuple)) else [other]:
            self.upstream.append(o.task_id)
        return other


class BashOperator(BaseOperator):
    def __init__(self, task_id, bash_command, env=None, append_env=False, **kwargs):
        super().__init__(task_id, **kwargs)
        self.bash_command = bash_command
        self.env = env
        self.append_env = append_env

    def execute(self, context):
        env = dict(os.environ) if self.append_env or self.env is None else {}
        env.update(self.env or {})
        p = subprocess.run(["bash", "-c", self.bash_command], env=env, stdout=subprocess.PIPE, text=True)
        sys.stderr.write(p.stdout)
        if p.returncode != 0:
            raise AirflowException("Bash command failed. The command returned a non-zero exit code %d."
                                   % p.returncode)
        # As Airflow's BashOperator: the last line of stdout is the task's XCom value.
        lines = p.stdout.strip().splitlines()
        return lines[-1] if lines else None


class SparkSubmitOperator(BaseOperator):
    """The provider's operator (4.x field names); execute builds spark-submit as its hook does."""

    def __init__(self, application="", conf=None, conn_id="spark_default", files=None, java_class=None,
                 name="arrow-spark", application_args=None, driver_memory=None, executor_memory=None,
                 executor_cores=None, num_executors=None, **kwargs):
        super().__init__(**kwargs)
        self.application = application
        self.conf = conf
        self.conn_id = conn_id
        self.files = files
        self.java_class = java_class
        self.name = name
        self.application_args = application_args
        self.driver_memory = driver_memory
        self.executor_memory = executor_memory
        self.executor_cores = executor_cores
        self.num_executors = num_executors

    def command(self):
        cmd = [os.environ.get("SPARK_SUBMIT", "spark-submit"),
               "--master", os.environ.get("PROBE_SPARK_MASTER", "yarn")]
        for k, v in (self.conf or {}).items():
            cmd += ["--conf", "%s=%s" % (k, v)]
        for flag, value in (("--files", self.files), ("--num-executors", self.num_executors),
                            ("--executor-cores", self.executor_cores),
                            ("--executor-memory", self.executor_memory),
                            ("--driver-memory", self.driver_memory), ("--name", self.name),
                            ("--class", self.java_class)):
            if value is not None:
                cmd += [flag, str(value)]
        cmd += ["--deploy-mode", os.environ.get("PROBE_DEPLOY_MODE", "cluster"), self.application]
        return cmd + list(self.application_args or [])

    def execute(self, context):
        p = subprocess.run(self.command(), stdout=sys.stderr)
        if p.returncode != 0:
            raise AirflowException("Cannot execute: %s. Error code is: %d." % (self.command(), p.returncode))


def stub(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


stub("airflow", **({} if AIRFLOW_3 else {"DAG": DAG}))
stub("airflow.exceptions", AirflowException=AirflowException, AirflowSkipException=AirflowSkipException,
     AirflowFailException=AirflowFailException)
if AIRFLOW_3:
    stub("airflow.sdk", DAG=DAG, Param=Param, BaseOperator=BaseOperator)
    stub("airflow.providers.standard")
    stub("airflow.providers.standard.operators")
    stub("airflow.providers.standard.operators.bash", BashOperator=BashOperator)
else:
    stub("airflow.models")
    stub("airflow.models.param", Param=Param)
    stub("airflow.operators")
    stub("airflow.operators.bash", BashOperator=BashOperator)
stub("airflow.providers")
stub("airflow.providers.apache")
stub("airflow.providers.apache.spark")
stub("airflow.providers.apache.spark.operators")
stub("airflow.providers.apache.spark.operators.spark_submit", SparkSubmitOperator=SparkSubmitOperator)

path = sys.argv[1]
namespace = {"__name__": "semisup_dag", "__file__": path}
with open(path) as f:
    exec(compile(f.read(), path, "exec"), namespace)

if len(dags) != 1:
    raise SystemExit("expected one DAG, found %d" % len(dags))
dag = dags[0]
default_args = dag.kwargs.get("default_args", {})
params = {k: (v.default if isinstance(v, Param) else v) for k, v in dag.kwargs.get("params", {}).items()}


def describe(t):
    d = {"task_id": t.task_id, "operator": type(t).__name__,
         "bases": [c.__name__ for c in type(t).__mro__], "upstream": t.upstream,
         "pool": t.pool, "retries": t.retries, "trigger_rule": t.trigger_rule,
         "on_failure_callback": getattr(t.on_failure_callback, "__name__", None)}
    if isinstance(t, SparkSubmitOperator):
        d.update({"application": t.application, "java_class": t.java_class, "conn_id": t.conn_id,
                  "conf": t.conf, "driver_memory": t.driver_memory, "executor_memory": t.executor_memory,
                  "executor_cores": t.executor_cores, "num_executors": t.num_executors})
    return d


out = {
    "dag_id": dag.dag_id,
    "schedule": dag.kwargs.get("schedule"),
    "catchup": dag.kwargs.get("catchup"),
    "max_active_runs": dag.kwargs.get("max_active_runs"),
    "retries": default_args.get("retries"),
    "params": params,
    "tasks": [describe(t) for t in tasks.values()],
}


def parse_time(value):
    return datetime.fromisoformat(value) if value else None


if os.environ.get("PROBE_CONTEXT"):
    spec = json.loads(os.environ["PROBE_CONTEXT"])
    run_params = dict(params)
    run_params.update(spec.get("params", {}))
    context = {
        "params": run_params,
        "run_id": spec.get("run_id", "manual__2024-05-01T10:00:00+00:00"),
        "dag_run": types.SimpleNamespace(run_type=spec.get("run_type", "manual")),
        "task_instance": types.SimpleNamespace(task_id="?", log_url="",
                                               xcom_pull=lambda task_ids: spec.get("xcom", {}).get(task_ids)),
    }
    for key in ("data_interval_start", "data_interval_end", "prev_data_interval_start_success",
                "prev_data_interval_end_success"):
        context[key] = parse_time(spec.get(key))
    prepared = {}
    for t in tasks.values():
        try:
            t.prepare(context)
        except AirflowSkipException as e:
            prepared[t.task_id] = {"skipped": str(e)}
            continue
        except AirflowFailException as e:
            prepared[t.task_id] = {"failed": str(e)}
            continue
        if isinstance(t, SparkSubmitOperator):
            prepared[t.task_id] = {"application_args": t.application_args, "name": t.name,
                                   "conf": t.conf, "files": t.files}
        else:
            prepared[t.task_id] = {"bash_command": t.bash_command}
    out["prepared"] = prepared
    if os.environ.get("PROBE_EXECUTE"):
        task = tasks[os.environ["PROBE_EXECUTE"]]
        returned = None
        try:
            returned = task.execute(context)
            outcome, exception = "success", None
        except AirflowSkipException as e:
            outcome, exception = "skipped", e
        except AirflowFailException as e:
            outcome, exception = "failed_no_retry", e
        except AirflowException as e:
            outcome, exception = "failed", e
        out["execute"] = {"outcome": outcome, "message": str(exception) if exception else None,
                          "return_value": returned}
print(json.dumps(out))
