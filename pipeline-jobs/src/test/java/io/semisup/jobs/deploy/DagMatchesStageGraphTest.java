package io.semisup.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.stages.RunContext;
import io.semisup.jobs.stages.Stage;
import io.semisup.jobs.stages.StageGraph;
import io.semisup.core.testing.Prerequisites;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deployment files agree with the stage graph, without Airflow, YARN or Spark: the Airflow DAG
 * (loaded by {@code python3} with stub airflow modules, see {@code airflow_dag_probe.py}) has
 * exactly one task per stage with the graph's dependencies, and {@code submit.sh} knows the same
 * stages and builds the spark-submit command a task runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DagMatchesStageGraphTest {

  @TempDir Path tmp;
  private Path repo;

  @BeforeAll
  void find() {
    repo = InspectPseudoLabelsTest.repoRoot();
  }

  /** What `bin/semisup stages --json` prints: stage -> depends_on. */
  private Map<String, List<String>> cliGraph() throws Exception {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
      assertThat(SemisupCli.commandLine().execute("stages", "--json")).isZero();
    } finally {
      System.setOut(old);
    }
    Map<String, List<String>> graph = new LinkedHashMap<>();
    for (JsonNode s : RunContext.json().readTree(buf.toString(StandardCharsets.UTF_8)).get("stages")) {
      List<String> deps = new ArrayList<>();
      s.get("depends_on").forEach(d -> deps.add(d.asText()));
      graph.put(s.get("name").asText(), deps);
    }
    return graph;
  }

  /** The DAG as the probe sees it; {@code env} may set PROBE_CONTEXT, PROBE_EXECUTE, PROBE_AIRFLOW. */
  private JsonNode probeDag(Map<String, String> env) throws Exception {
    // Debian's python3, not another one on PATH.
    String python = Prerequisites.python3().toString();
    ProcessBuilder pb = new ProcessBuilder(python, resource("airflow_dag_probe.py").toString(),
        repo.resolve("deploy/airflow/semisup_dag.py").toString());
    pb.environment().put("SEMISUP_HOME", repo.toString());
    pb.environment().putAll(env);
    return RunContext.json().readTree(run(pb));
  }

  /** A scheduled run's context: the week before 2026-12-07, after a successful week before it. */
  private static String scheduled(String params) {
    return "{\"run_type\": \"scheduled\", \"run_id\": \"scheduled__2026-11-30T00:00:00+00:00\","
        + " \"data_interval_start\": \"2026-11-30T00:00:00+00:00\", \"data_interval_end\": \"2026-12-07T00:00:00+00:00\","
        + " \"prev_data_interval_start_success\": \"2026-11-23T00:00:00+00:00\","
        + " \"prev_data_interval_end_success\": \"2026-11-30T00:00:00+00:00\", \"params\": " + params + "}";
  }

  private static Map<String, JsonNode> byId(JsonNode dag) {
    Map<String, JsonNode> byId = new LinkedHashMap<>();
    dag.get("tasks").forEach(t -> byId.put(t.get("task_id").asText(), t));
    return byId;
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(a -> out.add(a.asText()));
    return out;
  }

  @Test
  void stagesJsonBesideTheDagIsTheStageGraph() throws Exception {
    JsonNode file = RunContext.json().readTree(repo.resolve("deploy/airflow/stages.json").toFile());
    Map<String, List<String>> graph = new LinkedHashMap<>();
    for (JsonNode s : file.get("stages")) {
      graph.put(s.get("name").asText(), strings(s.get("depends_on")));
      assertThat(s.get("main_class").asText()).isEqualTo(StageGraph.standard().get(s.get("name").asText()).getClass().getName());
    }
    assertThat(graph).as("deploy/airflow/stages.json: regenerate with `bin/semisup stages --json > deploy/airflow/stages.json`")
        .isEqualTo(StageGraph.standard().edges()).isEqualTo(cliGraph());
  }

  @Test
  void dagTasksAndDependenciesAreExactlyTheStageGraph() throws Exception {
    for (String airflow : List.of("2", "3")) {
      JsonNode dag = probeDag(Map.of("PROBE_AIRFLOW", airflow));
      Map<String, JsonNode> byId = byId(dag);
      // The validation task comes first: every stage task is downstream of it.
      JsonNode first = dag.get("tasks").get(0);
      assertThat(first.get("task_id").asText()).isEqualTo("validate-config");
      assertThat(first.get("upstream")).isEmpty();
      assertThat(first.get("retries").asInt()).as("a typo fails once").isZero();
      Map<String, List<String>> dagGraph = new LinkedHashMap<>();
      for (Stage s : StageGraph.standard().all()) {
        JsonNode t = byId.get(s.name());
        assertThat(t).as("task of stage %s (Airflow %s)", s.name(), airflow).isNotNull();
        List<String> up = strings(t.get("upstream"));
        up.remove("validate-config");
        dagGraph.put(s.name(), up);
        assertThat(strings(t.get("bases"))).as("operator of %s", s.name()).contains("SparkSubmitOperator");
        assertThat(t.get("java_class").asText()).isEqualTo(s.getClass().getName());
        assertThat(t.get("application").asText()).endsWith("pipeline-jobs/target/pipeline-jobs-0.1.0-SNAPSHOT-app.jar");
        assertThat(t.get("conn_id").asText()).isEqualTo("spark_default");
        assertThat(t.get("pool").asText()).isEqualTo("semisup");
        assertThat(t.get("on_failure_callback").asText()).isEqualTo("on_task_failure");
        assertThat(t.get("retries").asInt()).isPositive();
        // Memory from conf/yarn.conf, the one place; no Spark UI switch on YARN.
        assertThat(t.get("driver_memory").asText()).isEqualTo("8g");
        assertThat(t.get("executor_memory").asText()).isEqualTo("8g");
        assertThat(t.get("conf").get("spark.executor.memoryOverhead").asText()).isEqualTo("6g");
        assertThat(t.get("conf").has("spark.ui.enabled")).isFalse();
      }
      assertThat(byId.get("import-fashion-mnist").get("upstream")).extracting(JsonNode::asText).containsExactly("validate-config");
      assertThat(dagGraph).isEqualTo(StageGraph.standard().edges());
      assertThat(dag.get("schedule").asText()).isEqualTo("@weekly");
      assertThat(dag.get("catchup").asBoolean()).isFalse();
      assertThat(dag.get("max_active_runs").asInt()).isEqualTo(1);
      assertThat(dag.get("params").fieldNames()).toIterable()
          .contains("preset", "seed", "k", "p", "rounds", "gpu", "settings", "reuse_previous", "train_dir", "val_dir", "validation_dir",
              "unlabelled_dir", "unlabelled_listing");
    }
  }

  @Test
  void laterRoundsRepeatTheStagesAfterShardTaughtByThePreviousRound() throws Exception {
    JsonNode dag = probeDag(Map.of("PROBE_CONTEXT", scheduled("{\"rounds\": 2}")));
    Map<String, JsonNode> byId = byId(dag);
    assertThat(byId).hasSize(1 + 12 + 3 * 10).containsKeys("teacher_r2", "report_r2", "evaluate_r3", "audit_r3", "fixres_r3", "dedup_r2")
        .doesNotContainKeys("shard_r2", "import-fashion-mnist_r2");
    assertThat(strings(byId.get("teacher_r2").get("upstream"))).containsExactlyInAnyOrder("shard", "finetune");
    assertThat(strings(byId.get("teacher_r3").get("upstream"))).containsExactlyInAnyOrder("shard", "finetune_r2");
    assertThat(strings(byId.get("student_r3").get("upstream"))).containsExactlyInAnyOrder("shard", "select_r3");
    JsonNode prepared = dag.get("prepared");
    assertThat(strings(prepared.get("score_r2").get("application_args"))).containsSubsequence("--round", "2");
    assertThat(strings(prepared.get("score").get("application_args"))).doesNotContain("--round");
    assertThat(prepared.get("score_r3").get("skipped").asText()).contains("beyond this run's 2 rounds");

    // Without a rounds param the run trains the configuration's rounds, which validate-config
    // printed (the preset's with one), and fails rather than run fewer than it asks for.
    JsonNode best = probeDag(Map.of("PROBE_CONTEXT", scheduledWithRounds("{\"preset\": \"best\"}", "3"))).get("prepared");
    assertThat(strings(best.get("score_r3").get("application_args"))).containsSubsequence("--round", "3");
    JsonNode plain = probeDag(Map.of("PROBE_CONTEXT", scheduledWithRounds("{}", "2"))).get("prepared");
    assertThat(plain.get("score_r3").get("skipped").asText()).contains("beyond this run's 2 rounds");
    assertThat(strings(plain.get("score_r2").get("application_args"))).containsSubsequence("--round", "2");
    JsonNode tooMany = probeDag(Map.of("PROBE_CONTEXT", scheduledWithRounds("{}", "5"))).get("prepared");
    assertThat(tooMany.get("score_r2").get("failed").asText()).contains("5 rounds", "MAX_ROUNDS");
  }

  /** A scheduled run whose validate-config task printed {@code rounds} (its XCom value). */
  private static String scheduledWithRounds(String params, String rounds) {
    String run = scheduled(params);
    return run.substring(0, run.length() - 1) + ", \"xcom\": {\"validate-config\": \"" + rounds + "\"}}";
  }

  @Test
  void scheduledRunsHaveTheirIntervalsRunIdAndReuseThePreviousRun() throws Exception {
    JsonNode dag = probeDag(Map.of("PROBE_CONTEXT", scheduled(
        "{\"k\": 500, \"p\": 2, \"seed\": 7, \"preset\": \"best\", \"gpu\": true,"
        + " \"train_dir\": \"hdfs:///data/train\", \"settings\": [\"select.mode=threshold\"]}")));
    JsonNode shard = dag.get("prepared").get("shard");
    assertThat(strings(shard.get("application_args"))).containsExactly("--env", "yarn",
        "--run-id", "sched-20261130T0000--20261207T0000", "--preset", "best",
        "--set", "seed=7", "--set", "select.k=500", "--set", "select.p=2",
        "--set", "data.train-dir=\"hdfs:///data/train\"", "--set", "score.cuda=true",
        "--set", "shard.reuse-run=sched-20261123T0000--20261130T0000",
        "--set", "score.reuse-run=sched-20261123T0000--20261130T0000", "--set", "select.mode=threshold");
    assertThat(shard.get("name").asText()).isEqualTo("semisup-shard-sched-20261130T0000--20261207T0000");
    // gpu: the resource profile, its discovery script, and CUDA scoring (above).
    assertThat(shard.get("conf").get("spark.executor.resource.gpu.amount").asText()).isEqualTo("1");
    assertThat(shard.get("conf").get("spark.task.resource.gpu.amount").asText()).isEqualTo("0.25");
    assertThat(shard.get("files").asText()).endsWith("deploy/yarn/discover_gpus.sh");
    // The validation task checks the same settings, locally.
    assertThat(dag.get("prepared").get("validate-config").get("bash_command").asText())
        .contains("--master local", "config --check --get rounds --env yarn --run-id sched-20261130T0000--20261207T0000",
            "--set select.mode=threshold");

    // A manual run: its own run id, no gpu, K and P left to the configuration.
    JsonNode manual = probeDag(Map.of("PROBE_CONTEXT", "{\"run_id\": \"manual__2024-05-01T10:00:00+00:00\","
        + " \"params\": {\"reuse_previous\": false}}")).get("prepared").get("select");
    assertThat(strings(manual.get("application_args"))).containsExactly("--env", "yarn",
        "--run-id", "manual__2024-05-01T10_00_00_00_00");
    assertThat(manual.get("conf").has("spark.executor.resource.gpu.amount")).isFalse();
    assertThat(manual.get("files").isNull()).isTrue();

    // With every input given, the Fashion-MNIST import skips itself; shard still runs after it.
    JsonNode own = probeDag(Map.of("PROBE_CONTEXT", scheduled(
        "{\"train_dir\": \"/t\", \"val_dir\": \"/v\", \"unlabelled_dir\": \"/u\"}")));
    assertThat(own.get("prepared").get("import-fashion-mnist").get("skipped").asText()).contains("not needed");
    assertThat(byId(own).get("shard").get("trigger_rule").asText()).isEqualTo("none_failed");
  }

  @Test
  void aTypoFailsTheValidationTaskWithoutRetriesAndAClearedTaskIsANoOp() throws Exception {
    Prerequisites.fashionMnist();
    Path fake = fakeSparkSubmit();
    Path root = tmp.resolve("runs");
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SPARK_SUBMIT", fake.toString());
    env.put("TEST_CLASS_PATH", System.getProperty("java.class.path"));
    env.put("PROBE_SPARK_MASTER", "local[2]");
    env.put("PROBE_DEPLOY_MODE", "client");
    String slice = "[\"root=\\\"" + root + "\\\"\", \"data.labelled-per-class=2\", \"data.unlabelled-limit=20\", \"data.validation-size=10\","
        + " \"data.val-limit=10\", \"spark.conf.\\\"spark.ui.enabled\\\"=false\", \"spark.conf.\\\"spark.sql.shuffle.partitions\\\"=2\"]";

    env.put("PROBE_CONTEXT", "{\"params\": {\"settings\": [\"select.kk=3\"]}}");
    env.put("PROBE_EXECUTE", "validate-config");
    assertThat(probeDag(env).get("execute").get("outcome").asText()).isEqualTo("failed_no_retry");
    env.put("PROBE_CONTEXT", "{\"params\": {\"settings\": " + slice + "}}");
    JsonNode validated = probeDag(env).get("execute");
    assertThat(validated.get("outcome").asText()).isEqualTo("success");
    // Its last line, the task's XCom value, is the configuration's rounds: the preset's with one.
    assertThat(validated.get("return_value").asText()).isEqualTo("2");
    env.put("PROBE_CONTEXT", "{\"params\": {\"preset\": \"best\", \"settings\": " + slice + "}}");
    assertThat(probeDag(env).get("execute").get("return_value").asText())
        .isEqualTo(String.valueOf(SemisupConfig.load("yarn", "best", null, List.of()).settings().run().rounds()));
    env.put("PROBE_CONTEXT", "{\"params\": {\"settings\": " + slice + "}}");

    // The import stage's task, run, then cleared and run again: the second submission finds the
    // stage committed with the same settings and does nothing.
    env.put("PROBE_EXECUTE", "import-fashion-mnist");
    assertThat(probeDag(env).get("execute").get("outcome").asText()).isEqualTo("success");
    Path manifest = root.resolve("manual__2024-05-01T10_00_00_00_00/import-fashion-mnist/manifest.json");
    String first = RunContext.json().readTree(manifest.toFile()).get("commit_id").asText();
    assertThat(probeDag(env).get("execute").get("outcome").asText()).isEqualTo("success");
    assertThat(RunContext.json().readTree(manifest.toFile()).get("commit_id").asText()).isEqualTo(first);
  }

  /**
   * A stand-in spark-submit: runs the class it is given with this test's class path and the
   * command line it received (no Spark distribution here); the master stays the configured local one.
   */
  private Path fakeSparkSubmit() throws Exception {
    Path fake = tmp.resolve("spark-submit");
    Files.writeString(fake, "#!/usr/bin/env bash\n"
        + "while [[ $# -gt 0 && $1 == --* ]]; do [[ $1 == --class ]] && cls=$2; shift 2; done\n"
        + "shift\n" // the application jar
        + "exec '" + Paths.get(System.getProperty("java.home"), "bin", "java") + "' -Xmx1g "
        + String.join(" ", java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
            .filter(a -> a.startsWith("--add-opens")).toList())
        + " -cp \"$TEST_CLASS_PATH\" $cls \"$@\"\n");
    assertThat(fake.toFile().setExecutable(true)).isTrue();
    return fake;
  }

  @Test
  void clusterModeChecksTheConfigurationBeforeSubmitting() throws Exception {
    // A stand-in spark-submit: it runs the local configuration check with this test's class path,
    // the real command line; a submission to YARN only leaves a mark.
    Path fake = tmp.resolve("spark-submit");
    Path submitted = tmp.resolve("submitted");
    Files.writeString(fake, "#!/usr/bin/env bash\n"
        + "while [[ $# -gt 0 && $1 == --* ]]; do [[ $1 == --class ]] && cls=$2; shift 2; done\n"
        + "shift\n" // the application jar
        + "if [[ $cls == " + SemisupCli.class.getName() + " ]]; then\n"
        + "  exec '" + Paths.get(System.getProperty("java.home"), "bin", "java") + "' -cp \"$TEST_CLASS_PATH\" $cls \"$@\"\n"
        + "fi\n"
        + "echo \"$cls $*\" > '" + submitted + "'\n");
    assertThat(fake.toFile().setExecutable(true)).isTrue();
    Path jar = Files.writeString(tmp.resolve("app.jar"), "");
    Path script = repo.resolve("deploy/yarn/submit.sh");

    ProcessBuilder typo = new ProcessBuilder("bash", script.toString(), "select", "--run-id", "r1", "--set", "select.kk=3")
        .redirectErrorStream(true);
    typo.environment().put("SPARK_SUBMIT", fake.toString());
    typo.environment().put("SEMISUP_APP_JAR", jar.toString());
    typo.environment().put("TEST_CLASS_PATH", System.getProperty("java.class.path"));
    Process p = typo.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isEqualTo(2);
    assertThat(out).contains("semisup: unknown key select.kk; did you mean select.k?",
        "not submitting select of run r1").doesNotContain("\tat ");
    assertThat(submitted).doesNotExist();

    ProcessBuilder good = new ProcessBuilder("bash", script.toString(), "select", "--run-id", "r1", "--set", "select.k=3");
    good.environment().put("SPARK_SUBMIT", fake.toString());
    good.environment().put("SEMISUP_APP_JAR", jar.toString());
    good.environment().put("TEST_CLASS_PATH", System.getProperty("java.class.path"));
    run(good);
    assertThat(Files.readString(submitted)).startsWith("io.semisup.jobs.stages.SelectStage ")
        .contains("--env yarn --run-id r1 --set select.k=3");
  }

  @Test
  void submitScriptKnowsTheSameStages() throws Exception {
    String listed = run(new ProcessBuilder("bash", repo.resolve("deploy/yarn/submit.sh").toString(), "--list"));
    assertThat(listed.strip().split("\n")).containsExactlyElementsOf(StageGraph.standard().edges().keySet());
    for (Stage s : StageGraph.standard().all()) {
      // The class submit.sh derives from the name is the stage's class, and it has a main.
      assertThat(s.getClass().getMethod("main", String[].class)).isNotNull();
      String cmd = run(new ProcessBuilder("bash", repo.resolve("deploy/yarn/submit.sh").toString(), s.name(), "--run-id", "r1", "--dry-run"));
      assertThat(cmd).contains("--class " + s.getClass().getName() + " ");
    }
  }

  @Test
  void submitScriptGpuOptionsAndErrors() throws Exception {
    Path script = repo.resolve("deploy/yarn/submit.sh");
    String gpu = run(new ProcessBuilder("bash", script.toString(), "score", "--run-id", "r1", "--gpu", "--dry-run"));
    assertThat(gpu).contains("--master yarn", "--deploy-mode cluster", "spark.executor.resource.gpu.amount=1",
        "spark.task.resource.gpu.amount=0.25", "spark.executor.resource.gpu.discoveryScript=./discover_gpus.sh",
        "discover_gpus.sh", "spark.executor.memoryOverhead=", "--env yarn --set score.cuda=true --run-id r1");
    assertThat(run(new ProcessBuilder("bash", script.toString(), "score", "--run-id", "r1", "--dry-run"))).doesNotContain("gpu");

    ProcessBuilder noRun = new ProcessBuilder("bash", script.toString(), "score").redirectErrorStream(true);
    Process p = noRun.start();
    String err = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isEqualTo(2);
    assertThat(err).contains("Cannot submit stage score without --run-id");
  }

  @Test
  void submitScriptDryRunForEachMode() throws Exception {
    Path script = repo.resolve("deploy/yarn/submit.sh");
    for (String mode : List.of("cluster", "client")) {
      ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), "select", "--run-id", "r1", "--dry-run", "--set", "select.k=3");
      pb.environment().put("SEMISUP_DEPLOY_MODE", mode);
      pb.environment().put("SEMISUP_EXECUTOR_MEMORY", "3g");
      String cmd = run(pb);
      // Memory defaults from conf/yarn.conf, one overridden from the environment; the Spark UI is
      // not switched off on YARN.
      assertThat(cmd).contains("--master yarn", "--deploy-mode " + mode, "--driver-memory 8g", "--num-executors 10",
          "--executor-cores 4", "--executor-memory 3g", "spark.executor.memoryOverhead=6g",
          "spark.driver.memoryOverhead=2g", "spark.yarn.maxAppAttempts=1", "--class io.semisup.jobs.stages.SelectStage ",
          "--env yarn --run-id r1 --set select.k=3").doesNotContain("spark.ui.enabled", "gpu", "score.cuda");
    }
    // A YARN defaults file without a memory key is a usage error naming the key.
    Path conf = Files.writeString(tmp.resolve("yarn.conf"),
        "semisup {\n  spark.conf {\n    \"spark.driver.memory\" = \"4g\"\n  }\n}\n");
    ProcessBuilder broken = new ProcessBuilder("bash", script.toString(), "select", "--run-id", "r1", "--dry-run")
        .redirectErrorStream(true);
    broken.environment().put("SEMISUP_YARN_CONF", conf.toString());
    Process p = broken.start();
    String err = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isEqualTo(2);
    assertThat(err).contains("Cannot find \"spark.driver.memoryOverhead\" in " + conf);
    // Local runs (conf/local.conf) switch the UI off; YARN runs (conf/yarn.conf) keep it.
    assertThat(io.semisup.jobs.config.SemisupConfig.load("local", null, List.of()).settings().spark().conf())
        .containsEntry("spark.ui.enabled", "false");
    assertThat(io.semisup.jobs.config.SemisupConfig.load("yarn", null, List.of()).settings().spark().conf())
        .doesNotContainKey("spark.ui.enabled").containsEntry("spark.executor.memory", "8g");
  }

  private static Path resource(String name) throws Exception {
    return Paths.get(DagMatchesStageGraphTest.class.getResource("/" + name).toURI());
  }

  private String run(ProcessBuilder pb) throws Exception {
    Path err = Files.createTempFile(tmp, "stderr", ".txt");
    pb.redirectError(err.toFile());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s failed: %s%s", pb.command(), out, Files.readString(err)).isZero();
    return out;
  }
}
