package io.semisup.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.jobs.cli.SemisupCli;
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

  private static final String AIRFLOW_RUN_ID = "manual__2024-05-01T10:00:00+00:00";

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

  private JsonNode probeDag(String... args) throws Exception {
    return probeDag(Map.of(), args);
  }

  private JsonNode probeDag(Map<String, String> env, String... args) throws Exception {
    // Debian's python3 (with jinja2, which renders the templates), not another one on PATH.
    String python = Prerequisites.python3().toString();
    List<String> cmd = new ArrayList<>(List.of(python, resource("airflow_dag_probe.py").toString(),
        repo.resolve("deploy/airflow/semisup_dag.py").toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("SEMISUP_HOME", repo.toString());
    pb.environment().putAll(env);
    String out = run(pb);
    return RunContext.json().readTree(out);
  }

  @Test
  void dagTasksAndDependenciesAreExactlyTheStageGraph() throws Exception {
    Map<String, List<String>> graph = cliGraph();
    assertThat(graph).isEqualTo(StageGraph.standard().edges());
    assertThat(graph).containsKey("report");
    JsonNode dag = probeDag();
    Map<String, List<String>> dagGraph = new LinkedHashMap<>();
    for (JsonNode t : dag.get("tasks")) {
      List<String> up = new ArrayList<>();
      t.get("upstream").forEach(u -> up.add(u.asText()));
      dagGraph.put(t.get("task_id").asText(), up);
      assertThat(t.get("operator").asText()).as("operator of %s", t.get("task_id")).isEqualTo("SemisupStageOperator");
      // Each task submits its own stage, with the run id of the Airflow run.
      assertThat(t.get("bash_command").asText())
          .contains("deploy/yarn/submit.sh\" " + t.get("task_id").asText() + " --run-id \"$SEMISUP_RUN_ID\"");
    }
    assertThat(dagGraph).isEqualTo(graph);
    assertThat(dag.get("retries").asInt()).isPositive();
    assertThat(dag.get("params").fieldNames()).toIterable()
        .contains("k", "p", "train_dir", "val_dir", "unlabelled_dir", "unlabelled_listing");
  }

  @Test
  void laterRoundsRepeatTheStagesAfterShardTaughtByThePreviousRound() throws Exception {
    JsonNode dag = probeDag(Map.of("SEMISUP_ROUNDS", "3"));
    Map<String, JsonNode> byId = new LinkedHashMap<>();
    dag.get("tasks").forEach(t -> byId.put(t.get("task_id").asText(), t));
    assertThat(byId).hasSize(10 + 2 * 8).containsKeys("teacher_r2", "report_r2", "evaluate_r3")
        .doesNotContainKeys("shard_r2", "import-fashion-mnist_r2");
    assertThat(upstream(byId.get("teacher_r2"))).containsExactlyInAnyOrder("shard", "finetune");
    assertThat(upstream(byId.get("teacher_r3"))).containsExactlyInAnyOrder("shard", "finetune_r2");
    assertThat(upstream(byId.get("student_r3"))).containsExactlyInAnyOrder("shard", "select_r3");
    assertThat(byId.get("score_r3").get("bash_command").asText())
        .contains("deploy/yarn/submit.sh\" score --run-id \"$SEMISUP_RUN_ID\" --round 3 ");
    assertThat(byId.get("score").get("bash_command").asText()).doesNotContain("--round");
    // submit.sh hands --round to the stage's command line.
    String cmd = run(new ProcessBuilder("bash", repo.resolve("deploy/yarn/submit.sh").toString(), "score",
        "--run-id", "r1", "--round", "3", "--dry-run"));
    assertThat(cmd).contains("--run-id r1 --round 3");
  }

  @Test
  void usageErrorFailsTheTaskAtOnceAndOtherFailuresAreRetried() throws Exception {
    assertThat(execute("exit 2")).isEqualTo("failed_no_retry");
    assertThat(execute("exit 1")).isEqualTo("failed");
    assertThat(execute("exit 99")).as("the import's skip code").isEqualTo("skipped");
    assertThat(execute("true")).isEqualTo("success");
    // submit.sh's own usage errors exit 2: no --run-id.
    assertThat(execute("bash '" + repo.resolve("deploy/yarn/submit.sh") + "' score")).isEqualTo("failed_no_retry");
  }

  /** How a task of the DAG's operator class ends when its command is {@code bash}. */
  private String execute(String bash) throws Exception {
    return probeDag(Map.of("PROBE_EXECUTE", bash)).get("execute").get("outcome").asText();
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

  private static List<String> upstream(JsonNode task) {
    List<String> up = new ArrayList<>();
    task.get("upstream").forEach(u -> up.add(u.asText()));
    return up;
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
        "discover_gpus.sh", "spark.executor.memoryOverhead=", "--env yarn --run-id r1");
    assertThat(run(new ProcessBuilder("bash", script.toString(), "score", "--run-id", "r1", "--dry-run"))).doesNotContain("gpu");

    ProcessBuilder noRun = new ProcessBuilder("bash", script.toString(), "score").redirectErrorStream(true);
    Process p = noRun.start();
    String err = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isEqualTo(2);
    assertThat(err).contains("Cannot submit stage score without --run-id");
  }

  @Test
  void dagTaskCommandSubmitsItsStageWithTheParams() throws Exception {
    Prerequisites.python3("jinja2");
    JsonNode dag = probeDag(AIRFLOW_RUN_ID, "{\"k\": 500, \"p\": 2, \"train_dir\": \"hdfs:///data/train\"}");
    JsonNode shard = null;
    for (JsonNode t : dag.get("tasks")) {
      if (t.get("task_id").asText().equals("shard")) {
        shard = t;
      }
    }
    assertThat(shard).isNotNull();
    assertThat(shard.has("rendered_env")).as("templates rendered with jinja2").isTrue();
    // spark-submit replaced by echo: the command the task would run on the Airflow worker.
    Path jar = Files.writeString(tmp.resolve("app.jar"), "");
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", shard.get("bash_command").asText());
    shard.get("rendered_env").fields().forEachRemaining(e -> pb.environment().put(e.getKey(), e.getValue().asText()));
    pb.environment().put("SPARK_SUBMIT", "echo");
    pb.environment().put("SEMISUP_APP_JAR", jar.toString());
    String cmd = run(pb);
    assertThat(cmd).contains("--class io.semisup.jobs.stages.ShardStage ", "--run-id manual__2024-05-01T10_00_00_00_00",
        "--set select.k=500 --set select.p=2", "--set data.train-dir=\"hdfs:///data/train\"")
        .doesNotContain("data.val-dir");

    // With every input given, the Fashion-MNIST import skips itself (exit 99 = skipped).
    JsonNode all = probeDag(AIRFLOW_RUN_ID, "{\"train_dir\": \"/t\", \"val_dir\": \"/v\", \"unlabelled_dir\": \"/u\"}");
    JsonNode imp = all.get("tasks").get(0);
    // K and P left empty: the task passes neither, so conf/defaults.conf decides.
    ProcessBuilder defaults = new ProcessBuilder("bash", "-c", all.get("tasks").get(1).get("bash_command").asText());
    all.get("tasks").get(1).get("rendered_env").fields()
        .forEachRemaining(e -> defaults.environment().put(e.getKey(), e.getValue().asText()));
    defaults.environment().put("SPARK_SUBMIT", "echo");
    defaults.environment().put("SEMISUP_APP_JAR", jar.toString());
    assertThat(run(defaults)).contains("--set data.train-dir=\"/t\"").doesNotContain("select.k", "select.p");
    assertThat(imp.get("task_id").asText()).isEqualTo("import-fashion-mnist");
    ProcessBuilder skip = new ProcessBuilder("bash", "-c", imp.get("bash_command").asText());
    imp.get("rendered_env").fields().forEachRemaining(e -> skip.environment().put(e.getKey(), e.getValue().asText()));
    skip.environment().put("SPARK_SUBMIT", "false");
    Process p = skip.start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(99);
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
