"""Loads an Airflow DAG file WITHOUT Airflow: stub modules stand in for airflow, airflow.models.param,
airflow.operators.bash, airflow.exceptions and airflow.hooks.subprocess, record every task and edge,
and the result is printed as JSON.
Optionally renders each task's templated env with jinja2 (if installed) for a given run id and params.
With PROBE_EXECUTE=<bash command> in the environment, also runs that command through the class of
the DAG's first task, as Airflow 2.6+'s BashOperator.execute would, and reports how the task ends
("success", "skipped", "failed" (retried) or "failed_no_retry").

usage: python3 airflow_dag_probe.py DAG_FILE [RUN_ID [PARAMS_JSON]]
"""
import json
import os
import subprocess
import sys
import types
from collections import namedtuple
from functools import cached_property

tasks = {}
dags = []


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
        return self

    def __exit__(self, *exc):
        return False


class AirflowException(Exception):
    pass


class AirflowSkipException(AirflowException):
    pass


class AirflowFailException(AirflowException):
    pass


SubprocessResult = namedtuple("SubprocessResult", ["exit_code", "output"])


class SubprocessHook:
    def run_command(self, command, env=None, output_encoding="utf-8", cwd=None):
        p = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        lines = p.stdout.decode(output_encoding).splitlines()
        return SubprocessResult(exit_code=p.returncode, output=lines[-1] if lines else "")

    def send_sigterm(self):
        pass


class BashOperator:
    """What the DAG uses of Airflow 2.6+'s BashOperator, execute() included."""

    def __init__(self, task_id, bash_command, **kwargs):
        if task_id in tasks:
            raise SystemExit("duplicate task id " + task_id)
        self.task_id = task_id
        self.bash_command = bash_command
        self.kwargs = kwargs
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

    @cached_property
    def subprocess_hook(self):
        return SubprocessHook()

    def execute(self, context):
        env = dict(os.environ) if self.kwargs.get("append_env") else {}
        env.update(self.kwargs.get("env") or {})
        result = self.subprocess_hook.run_command(command=["bash", "-c", self.bash_command], env=env)
        skip = self.kwargs.get("skip_on_exit_code")
        skip = [skip] if isinstance(skip, int) else (skip or [])
        if result.exit_code in skip:
            raise AirflowSkipException("Bash command returned exit code %d. Skipping." % result.exit_code)
        if result.exit_code != 0:
            raise AirflowException("Bash command failed. The command returned a non-zero exit code %d."
                                   % result.exit_code)
        return result.output

    def set_upstream(self, other):
        self << other

    def set_downstream(self, other):
        self >> other


def stub(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


stub("airflow", DAG=DAG)
stub("airflow.models")
stub("airflow.models.param", Param=Param)
stub("airflow.operators")
stub("airflow.operators.bash", BashOperator=BashOperator)
stub("airflow.exceptions", AirflowException=AirflowException, AirflowSkipException=AirflowSkipException,
     AirflowFailException=AirflowFailException)
stub("airflow.hooks")
stub("airflow.hooks.subprocess", SubprocessHook=SubprocessHook, SubprocessResult=SubprocessResult)

path = sys.argv[1]
namespace = {"__name__": "semisup_dag", "__file__": path}
with open(path) as f:
    exec(compile(f.read(), path, "exec"), namespace)

if len(dags) != 1:
    raise SystemExit("expected one DAG, found %d" % len(dags))
dag = dags[0]
default_args = dag.kwargs.get("default_args", {})
params = {k: (v.default if isinstance(v, Param) else v) for k, v in dag.kwargs.get("params", {}).items()}
out = {
    "dag_id": dag.dag_id,
    "retries": default_args.get("retries"),
    "params": params,
    "tasks": [
        {"task_id": t.task_id, "operator": type(t).__name__, "upstream": t.upstream, "bash_command": t.bash_command,
         "trigger_rule": t.kwargs.get("trigger_rule"), "env": t.kwargs.get("env")}
        for t in tasks.values()
    ],
}
if len(sys.argv) > 2:
    try:
        import jinja2
    except ImportError:
        jinja2 = None
    if jinja2 is not None:
        run_params = dict(params)
        if len(sys.argv) > 3:
            run_params.update(json.loads(sys.argv[3]))
        env = jinja2.Environment()
        env.filters.update(dag.kwargs.get("user_defined_filters", {}))
        for t in out["tasks"]:
            t["rendered_env"] = {k: env.from_string(v).render(run_id=sys.argv[2], params=run_params)
                                 for k, v in (t["env"] or {}).items()}
if os.environ.get("PROBE_EXECUTE"):
    first = next(iter(tasks.values()))
    kwargs = dict(first.kwargs, env={})
    probe = type(first)(task_id="probe_execute", bash_command=os.environ["PROBE_EXECUTE"], **kwargs)
    try:
        probe.execute({})
        outcome, exception = "success", None
    except AirflowSkipException as e:
        outcome, exception = "skipped", e
    except AirflowFailException as e:
        outcome, exception = "failed_no_retry", e
    except AirflowException as e:
        outcome, exception = "failed", e
    out["execute"] = {"outcome": outcome, "message": str(exception) if exception else None}
print(json.dumps(out))
