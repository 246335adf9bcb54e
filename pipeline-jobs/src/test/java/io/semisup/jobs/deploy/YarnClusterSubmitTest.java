package io.semisup.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.stages.ImportFashionMnistStage;
import io.semisup.jobs.stages.RunContext;
import io.semisup.jobs.stages.ScoreStage;
import io.semisup.jobs.stages.SelectStage;
import io.semisup.jobs.stages.ShardStage;
import io.semisup.jobs.stages.Stage;
import io.semisup.jobs.stages.TeacherStage;
import io.semisup.jobs.tables.Tables;
import io.semisup.core.testing.Prerequisites;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.apache.hadoop.yarn.server.resourcemanager.rmapp.RMApp;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * shard, score and select as real YARN applications on a real HDFS, submitted with
 * {@code deploy/yarn/submit.sh} (so the script users run is the one tested) through Spark's own
 * {@code org.apache.spark.deploy.SparkSubmit} in cluster deploy mode.
 *
 * <p>HDFS ({@link MiniDFSCluster}) and YARN ({@link MiniYARNCluster}, one node manager that
 * launches real container JVMs) run inside this test JVM. There is no Spark distribution here, so
 * containers get Spark from this test's class path ({@code spark.driver/executor.extraClassPath},
 * {@code spark.yarn.jars} pointing at an empty local jar); the application jar is this module's
 * classes. A few hundred real Fashion-MNIST images go to HDFS; the teacher is trained locally (the
 * slow part, and not what is under test) and copied into the HDFS run. The pseudo-labels read back
 * from HDFS must equal those of a local run of the same stages on the same inputs.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class YarnClusterSubmitTest extends SparkTestBase {

  private static final String RUN = "yarn-e2e";
  /** Per stage; raise it on a loaded machine with -Dsemisup.yarn-test.stage-timeout-s=900. */
  private static final long STAGE_TIMEOUT_S = Long.getLong("semisup.yarn-test.stage-timeout-s", 300);

  /** A few hundred images and a quick teacher: the point is the cluster, not accuracy. */
  private static final String[] SLICE = {
    "data.labelled-per-class=10",
    "data.unlabelled-limit=300", "data.validation-size=100",
    "data.val-limit=50",
    "teacher.epochs=3",
    "teacher.batch-size=16",
    "score.top-p=3",
    "score.batch-size=64",
    "select.k=15",
    "select.p=2",
  };

  @TempDir static Path tmp;

  private MiniDFSCluster dfs;
  private MiniYARNCluster yarn;
  private String hdfs;
  private Path hadoopConfDir;
  private final List<Path> submitLogs = new ArrayList<>();

  @BeforeAll
  void startClusters() throws Exception {
    Prerequisites.fashionMnist();
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, tmp.resolve("dfs").toString());
    conf.setInt("dfs.replication", 1);
    // Closing a file waits this long before asking whether its block is complete: 400 ms by
    // default, which makes copying a few hundred small images take minutes.
    conf.setInt("dfs.client.block.write.locateFollowingBlock.initial.delay.ms", 10);
    dfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
    dfs.waitActive();
    hdfs = dfs.getFileSystem().getUri().toString();

    YarnConfiguration yc = new YarnConfiguration(conf);
    yc.set("fs.defaultFS", hdfs);
    // The minicluster jar has no capacity-scheduler.xml: one queue taking the whole cluster.
    yc.set("yarn.scheduler.capacity.root.queues", "default");
    yc.set("yarn.scheduler.capacity.root.default.capacity", "100");
    yc.set("yarn.scheduler.capacity.root.default.maximum-capacity", "100");
    yc.set("yarn.scheduler.capacity.root.default.user-limit-factor", "1");
    yc.set("yarn.scheduler.capacity.root.default.state", "RUNNING");
    yc.set("yarn.scheduler.capacity.root.default.acl_submit_applications", "*");
    yc.set("yarn.scheduler.capacity.root.default.acl_administer_queue", "*");
    yc.set("yarn.scheduler.capacity.maximum-am-resource-percent", "0.5");
    yc.set("yarn.scheduler.capacity.node-locality-delay", "-1");
    // A full CI disk must not mark the only node unhealthy (the app would wait forever).
    yc.set("yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage", "100.0");
    // Memory is accounted, not enforced: ND4J's off-heap use would trip the checks on a tiny node.
    yc.setBoolean("yarn.nodemanager.pmem-check-enabled", false);
    yc.setBoolean("yarn.nodemanager.vmem-check-enabled", false);
    yc.setInt("yarn.nodemanager.resource.memory-mb", 6144);
    yc.setInt("yarn.nodemanager.resource.cpu-vcores", 4);
    yc.setInt("yarn.scheduler.minimum-allocation-mb", 256);
    yc.setInt("yarn.scheduler.maximum-allocation-mb", 6144);
    yc.set("yarn.resourcemanager.hostname", "localhost");
    yarn = new MiniYARNCluster(getClass().getSimpleName(), 1, 1, 1);
    yarn.init(yc);
    yarn.start();
    // start() can return before the RM has published its real port in the configuration.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (yarn.getConfig().get(YarnConfiguration.RM_ADDRESS).endsWith(":0")) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("Cannot start MiniYARNCluster: the RM address never got a port");
      }
      Thread.sleep(100);
    }
    // What a user's HADOOP_CONF_DIR holds: how to reach HDFS and the resource manager.
    // Only client settings: the cluster's own (e.g. its test-only topology class) stay inside.
    Configuration client = new Configuration(false);
    for (Map.Entry<String, String> e : yarn.getConfig()) {
      String k = e.getKey();
      if (k.equals("fs.defaultFS") || k.startsWith("dfs.client.") || k.equals("dfs.replication")
          || (k.startsWith("yarn.resourcemanager.") && (k.endsWith(".address") || k.endsWith(".hostname")))) {
        client.set(k, yarn.getConfig().get(k));
      }
    }
    hadoopConfDir = Files.createDirectories(tmp.resolve("hadoop-conf"));
    for (String file : List.of("core-site.xml", "yarn-site.xml")) {
      try (OutputStream out = Files.newOutputStream(hadoopConfDir.resolve(file))) {
        client.writeXml(out);
      }
    }
  }

  @AfterAll
  void stopClusters() {
    if (yarn != null) {
      yarn.stop();
    }
    if (dfs != null) {
      dfs.shutdown();
    }
  }

  private RunContext local() {
    return context(tmp.resolve("local"), RUN, SLICE);
  }

  private RunContext onHdfs() {
    return context(tmp.resolve("unused"), RUN, concat(SLICE, "root=\"" + hdfs + "/semisup/runs\""));
  }

  @Test
  @Order(1)
  void localRunAndInputsOnHdfs() throws Exception {
    RunContext ctx = local();
    for (Stage s : List.of(new ImportFashionMnistStage(), new ShardStage(), new TeacherStage(), new ScoreStage(), new SelectStage())) {
      s.execute(ctx);
    }
    FileSystem fs = dfs.getFileSystem();
    long t0 = System.nanoTime();
    Path imported = tmp.resolve("local").resolve(RUN).resolve(ImportFashionMnistStage.NAME);
    for (String split : List.of("train", "val", "unlabelled")) {
      fs.copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(imported.resolve(split).toUri()),
          new org.apache.hadoop.fs.Path("/data/fmnist/" + split));
    }
    assertThat(fs.listStatus(new org.apache.hadoop.fs.Path("/data/fmnist/unlabelled"))).hasSize(300);
    System.out.printf("[yarn] 450 images copied to HDFS in %.1f s%n", (System.nanoTime() - t0) / 1e9);
  }

  @Test
  @Order(2)
  void shardScoreSelectRunAsYarnApplications() throws Exception {
    submit("shard",
        "--set", "data.train-dir=\"" + hdfs + "/data/fmnist/train\"",
        "--set", "data.val-dir=\"" + hdfs + "/data/fmnist/val\"",
        "--set", "data.unlabelled-dir=\"" + hdfs + "/data/fmnist/unlabelled\"");
    // The teacher is trained locally and placed into the HDFS run as a committed stage.
    dfs.getFileSystem().copyFromLocalFile(false, true,
        new org.apache.hadoop.fs.Path(tmp.resolve("local").resolve(RUN).resolve(TeacherStage.NAME).toUri()),
        new org.apache.hadoop.fs.Path("/semisup/runs/" + RUN + "/" + TeacherStage.NAME));
    submit("score");
    submit("select");

    Collection<RMApp> apps = yarn.getResourceManager().getRMContext().getRMApps().values();
    assertThat(apps).extracting(RMApp::getName)
        .containsExactlyInAnyOrder("semisup-shard-" + RUN, "semisup-score-" + RUN, "semisup-select-" + RUN);
    assertThat(apps).extracting(RMApp::getFinalApplicationStatus).containsOnly(FinalApplicationStatus.SUCCEEDED);
  }

  @Test
  @Order(3)
  void hdfsOutputsAddUpAndEqualTheLocalRun() {
    RunContext yarnRun = onHdfs();
    RunContext localRun = local();
    assertThat(yarnRun.runDir().toString()).startsWith("hdfs://");
    JsonNode shard = yarnRun.manifest(ShardStage.NAME).get("counts");
    JsonNode localShard = localRun.manifest(ShardStage.NAME).get("counts");
    for (String split : List.of("train", "val", "unlabelled")) {
      long read = shard.get(split + "_read").asLong();
      long sum = shard.get(split + "_kept").asLong() + shard.get(split + "_duplicates").asLong()
          + shard.get(split + "_rejected").asLong() + shard.get(split + "_same_as_labelled").asLong();
      assertThat(sum).as("counts of %s add up", split).isEqualTo(read);
      assertThat(shard.get(split + "_kept").asLong()).as(split).isEqualTo(localShard.get(split + "_kept").asLong());
    }
    assertThat(shard.get("unlabelled_read").asLong()).isEqualTo(300);
    assertThat(shard.get("train_kept").asLong()).isEqualTo(100);

    JsonNode score = yarnRun.manifest(ScoreStage.NAME).get("counts");
    assertThat(score.get("read").asLong()).isEqualTo(shard.get("unlabelled_kept").asLong());
    assertThat(score.get("scored").asLong() + score.get("rejected").asLong()).isEqualTo(score.get("read").asLong());
    JsonNode select = yarnRun.manifest(SelectStage.NAME).get("counts");
    assertThat(select.get("scored_images").asLong()).isEqualTo(score.get("scored").asLong());

    List<Row> onYarn = pseudoLabels(yarnRun);
    List<Row> onLocal = pseudoLabels(localRun);
    assertThat(onYarn).hasSize((int) select.get("selected").asLong()).isNotEmpty();
    assertThat(keys(onYarn)).as("(class, rank, image_id) of YARN vs local").containsExactlyElementsOf(keys(onLocal));
    for (int i = 0; i < onYarn.size(); i++) {
      assertThat(onYarn.get(i).getFloat(4)).isCloseTo(onLocal.get(i).getFloat(4), org.assertj.core.data.Offset.offset(1e-5f));
    }
  }

  @Test
  @Order(4)
  void resubmittingACommittedStageIsANoOp() throws Exception {
    // What an Airflow retry or a cleared finished run does: the stage finds its commit and stops.
    RunContext yarnRun = onHdfs();
    String before = yarnRun.manifest(SelectStage.NAME).get("finished_at").asText();
    List<Row> labels = pseudoLabels(yarnRun);
    submit("select");
    assertThat(yarnRun.manifest(SelectStage.NAME).get("finished_at").asText()).isEqualTo(before);
    assertThat(pseudoLabels(yarnRun)).isEqualTo(labels);
    assertThat(yarn.getResourceManager().getRMContext().getRMApps().values())
        .extracting(RMApp::getFinalApplicationStatus).hasSize(4).containsOnly(FinalApplicationStatus.SUCCEEDED);
  }

  private List<Row> pseudoLabels(RunContext ctx) {
    return Tables.PSEUDO_LABELS.read(ctx)
        .select("class", "class_name", "rank", "image_id", "score")
        .orderBy("class", "rank")
        .collectAsList();
  }

  private static List<String> keys(List<Row> rows) {
    return rows.stream().map(r -> r.getInt(0) + "/" + r.getInt(2) + "/" + r.getString(3)).collect(Collectors.toList());
  }

  /** Runs {@code deploy/yarn/submit.sh <stage>} against the mini cluster and waits for it. */
  private void submit(String stage, String... extra) throws Exception {
    Path repo = repoRoot();
    Path work = Files.createDirectories(tmp.resolve("submit"));
    Path script = sparkSubmitScript(work);
    Path props = sparkProperties(work);
    List<String> cmd = new ArrayList<>(List.of(
        "bash", repo.resolve("deploy/yarn/submit.sh").toString(), stage,
        "--run-id", RUN, "--root", hdfs + "/semisup/runs"));
    for (String s : SLICE) {
      cmd.add("--set");
      cmd.add(s);
    }
    cmd.addAll(Arrays.asList(extra));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true);
    Path log = work.resolve("submit-" + stage + ".log");
    submitLogs.add(log);
    pb.redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("SPARK_SUBMIT", script.toString());
    env.put("HADOOP_CONF_DIR", hadoopConfDir.toString());
    env.put("SEMISUP_APP_JAR", appJar(work).toString());
    env.put("SEMISUP_DRIVER_MEMORY", "1g");
    env.put("SEMISUP_DRIVER_MEMORY_OVERHEAD", "512m");
    env.put("SEMISUP_NUM_EXECUTORS", "1");
    env.put("SEMISUP_EXECUTOR_CORES", "2");
    env.put("SEMISUP_EXECUTOR_MEMORY", "1g");
    env.put("SEMISUP_EXECUTOR_MEMORY_OVERHEAD", "1g");
    env.put("SEMISUP_SPARK_OPTS", "--properties-file " + props);
    long t0 = System.nanoTime();
    Process p = pb.start();
    if (!p.waitFor(STAGE_TIMEOUT_S, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("submit.sh %s did not finish in %d s.%n%s", stage, STAGE_TIMEOUT_S, diagnostics(log));
    }
    if (p.exitValue() != 0) {
      fail("submit.sh %s exited with %d.%n%s", stage, p.exitValue(), diagnostics(log));
    }
    System.out.printf("[yarn] %s finished on YARN in %.0f s%n", stage, (System.nanoTime() - t0) / 1e9);
  }

  /** spark-submit for this machine: Spark's SparkSubmit on the test class path (no distribution). */
  private Path sparkSubmitScript(Path work) throws IOException {
    Path script = work.resolve("spark-submit");
    if (Files.exists(script)) {
      return script;
    }
    Path args = work.resolve("spark-submit.args");
    String opens = String.join(" ", java17Opens());
    Files.writeString(args, "-Xmx512m " + opens + " -Dlog4j2.configurationFile=" + testLog4j() + "\n-cp " + hadoopConfDir + File.pathSeparator + String.join(File.pathSeparator, classPath(true)) + "\n");
    Files.writeString(script,
        "#!/usr/bin/env bash\nexec " + Paths.get(System.getProperty("java.home"), "bin", "java") + " @" + args
            + " org.apache.spark.deploy.SparkSubmit \"$@\"\n");
    script.toFile().setExecutable(true);
    return script;
  }

  /** What a Spark distribution and spark-defaults.conf would give the containers. */
  private Path sparkProperties(Path work) throws IOException {
    Path file = work.resolve("spark-defaults.properties");
    if (Files.exists(file)) {
      return file;
    }
    Path emptyJar = work.resolve("no-spark-distribution.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(emptyJar), new Manifest())) {
      out.flush();
    }
    String cp = String.join(File.pathSeparator, classPath(false));
    Properties p = new Properties();
    p.setProperty("spark.yarn.jars", "local:" + emptyJar);
    p.setProperty("spark.driver.extraClassPath", cp);
    p.setProperty("spark.executor.extraClassPath", cp);
    String javaHome = System.getProperty("java.home");
    p.setProperty("spark.yarn.appMasterEnv.JAVA_HOME", javaHome);
    p.setProperty("spark.executorEnv.JAVA_HOME", javaHome);
    p.setProperty("spark.sql.shuffle.partitions", "4");
    p.setProperty("spark.ui.enabled", "false");
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      p.store(w, "spark-submit defaults for the mini cluster");
    }
    return file;
  }

  /** This module's classes as the application jar, as {@code mvn package}'s app jar would hold them. */
  private static Path appJar(Path work) throws IOException {
    Path jar = work.resolve("pipeline-jobs-test-app.jar");
    if (Files.exists(jar)) {
      return jar;
    }
    Path classes = Paths.get("target/classes").toAbsolutePath();
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), new Manifest());
        Stream<Path> files = Files.walk(classes)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace(File.separatorChar, '/')));
        Files.copy(f, out);
        out.closeEntry();
      }
    }
    return jar;
  }

  /**
   * The test class path (surefire passes it in a property; java.class.path is only its booter),
   * without the test harness and the mini cluster; the module's own classes only for the client.
   */
  private static List<String> classPath(boolean withOwnClasses) {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    String own = Paths.get("target/classes").toAbsolutePath().toString();
    return Arrays.stream(cp.split(File.pathSeparator))
        .filter(e -> !e.contains("surefire") && !e.contains("hadoop-client-minicluster"))
        .filter(e -> withOwnClasses || !Paths.get(e).toAbsolutePath().toString().equals(own))
        .collect(Collectors.toList());
  }

  private static List<String> java17Opens() {
    return java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> a.startsWith("--add-opens"))
        .collect(Collectors.toList());
  }

  private static String testLog4j() {
    return Paths.get("src/test/resources/log4j2-test.properties").toAbsolutePath().toString();
  }

  private static Path repoRoot() {
    Path dir = Paths.get("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("deploy/yarn/submit.sh"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("Cannot find deploy/yarn/submit.sh above " + Paths.get("").toAbsolutePath());
    }
    return dir;
  }

  /** The submit log and the containers' stderr, for a failure message worth reading. */
  private String diagnostics(Path log) throws IOException {
    StringBuilder sb = new StringBuilder("--- ").append(log).append('\n').append(tail(log, 60));
    // MiniYARNCluster keeps container logs under target/test/data/<test name>/.
    Path nmLogs = Paths.get("target", "test", "data", getClass().getSimpleName());
    if (Files.isDirectory(nmLogs)) {
      try (Stream<Path> files = Files.walk(nmLogs)) {
        for (Path f : (Iterable<Path>) files.filter(f -> f.getFileName().toString().matches("stderr|stdout"))::iterator) {
          sb.append("--- ").append(f).append('\n').append(tail(f, 40));
        }
      }
    }
    return sb.toString();
  }

  private static String tail(Path file, int lines) throws IOException {
    List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())) + "\n";
  }

  private static String[] concat(String[] a, String... b) {
    String[] all = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
