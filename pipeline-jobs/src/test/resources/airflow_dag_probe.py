"""Loads an Airflow DAG file WITHOUT Airflow: stub modules stand in for airflow, airflow.models.param
and airflow.operators.bash, record every task and edge, and the result is printed as JSON.
Optionally renders each task's templated env with jinja2 (if installed) for a given run id and params.

usage: python3 airflow_dag_probe.py DAG_FILE [RUN_ID [PARAMS_JSON]]
"""
import json
import sys
import types

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


class BashOperator:
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
        {"task_id": t.task_id, "upstream": t.upstream, "bash_command": t.bash_command,
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
print(json.dumps(out))
