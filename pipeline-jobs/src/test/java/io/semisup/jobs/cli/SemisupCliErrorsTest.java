package io.semisup.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.UsageError;
import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Errors end as one line and an exit status a scheduler can act on: 2 for what the user can fix
 * (the Airflow DAG does not retry it), 1 for a failed job. No Spark: configuration errors stop
 * before any session starts, and the job failures come from a stand-in command.
 */
class SemisupCliErrorsTest {

  /** Exit status and everything written to stderr by one in-process run. */
  record Result(int code, String err) {
    List<String> lines() {
      return err.lines().filter(l -> !l.isBlank()).toList();
    }
  }

  /** A command that fails the way a job does, optionally with a usage error underneath. */
  @Command(name = "boom")
  static final class Boom implements Callable<Integer> {
    private final RuntimeException failure;

    Boom(RuntimeException failure) {
      this.failure = failure;
    }

    @Override
    public Integer call() {
      throw failure;
    }
  }

  private static Result run(CommandLine cli, String... args) {
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Result(code, err.toString());
  }

  private static Result run(String... args) {
    return run(SemisupCli.commandLine(), args);
  }

  private static Result runFailing(RuntimeException failure, String... args) {
    CommandLine cli = SemisupCli.commandLine();
    cli.addSubcommand("boom", new CommandLine(new Boom(failure)));
    return run(cli, args);
  }

  private static void assertOneLineUsageError(Result r, String... fragments) {
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.lines()).as(r.err()).hasSize(1);
    assertThat(r.lines().get(0)).startsWith("semisup: ").contains(fragments);
    assertNoStack(r);
  }

  private static void assertNoStack(Result r) {
    assertThat(r.err().lines()).as(r.err()).noneMatch(l -> l.startsWith("\tat "));
  }

  @Test
  void unknownKeyIsOneLineAndExitTwo() {
    assertOneLineUsageError(run("config", "--set", "select.kk=3"), "unknown key select.kk", "did you mean select.k?");
  }

  @Test
  void unknownEnvironmentIsOneLineAndExitTwo() {
    assertOneLineUsageError(run("config", "--env", "prod"), "Cannot use environment 'prod'", "local or yarn");
  }

  @Test
  void missingConfigFileIsOneLineAndExitTwo() {
    assertOneLineUsageError(run("config", "--config", "/nonexistent.conf"), "/nonexistent.conf", "--config");
  }

  @Test
  void unknownPresetIsOneLineAndExitTwo() {
    assertOneLineUsageError(run("config", "--preset", "fastest"), "preset 'fastest'");
  }

  @Test
  void badValuesAreOneLineAndExitTwo() {
    assertOneLineUsageError(run("config", "--set", "select.k"), "Cannot parse override 'select.k'");
    assertOneLineUsageError(run("config", "--round", "0"), "rounds count from 1");
    assertOneLineUsageError(run("config", "--check", "--get", "select.kk"), "--get select.kk", "config --markdown");
    assertOneLineUsageError(run("demo", "--round", "2"), "Cannot pass --round to demo");
    assertOneLineUsageError(run("ablate", "--set", "rounds=3"), "every cell is one round", "--axes rounds");
    // picocli's own conversion errors: the option and the value, and where to read more.
    assertOneLineUsageError(run("teacher", "--round", "two"), "--round", "'two' is not an int. See 'semisup teacher --help'.");
  }

  @Test
  void unknownOptionIsOneLineWithASuggestion() {
    assertOneLineUsageError(run("select", "--run-idd", "r1"), "--run-idd", "Did you mean", "--run-id");
    assertOneLineUsageError(run("selekt"), "selekt", "semisup --help");
  }

  @Test
  void verboseAddsTheStackTraceWhereverItIsGiven() {
    for (String[] args : List.of(
        new String[] {"--verbose", "config", "--env", "prod"},
        new String[] {"config", "--env", "prod", "--verbose"})) {
      Result r = run(args);
      assertThat(r.code()).isEqualTo(2);
      assertThat(r.lines().get(0)).isEqualTo(
          "semisup: Cannot use environment 'prod': no prod.conf in conf/. Use local or yarn.");
      assertThat(r.err()).contains(UsageError.class.getName()).contains("\tat io.semisup.jobs.config.SemisupConfig");
    }
  }

  @Test
  void jobFailureIsOneLineAndExitOne() {
    Result r = runFailing(new IllegalStateException("Cannot write /runs/r1/shard: disk full\n\tat remote.Frame(F.java:1)",
        new java.io.IOException("No space left on device")), "boom");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.lines()).containsExactly(
        "semisup: Cannot write /runs/r1/shard: disk full (run with --verbose for the stack trace)");

    Result verbose = runFailing(new IllegalStateException("Cannot write: disk full"), "boom", "--verbose");
    assertThat(verbose.code()).isEqualTo(1);
    assertThat(verbose.lines().get(0)).isEqualTo("semisup: Cannot write: disk full");
    assertThat(verbose.err()).contains("java.lang.IllegalStateException: Cannot write: disk full", "\tat ");
  }

  @Test
  void usageErrorWrappedByAJobIsStillExitTwo() {
    // Spark and the stages wrap what they catch; the usage error underneath decides the status.
    Result r = runFailing(new IllegalStateException("Stage import-fashion-mnist failed",
        new UsageError("Cannot read Fashion-MNIST: /x is missing. Install it with `apt-get install -y dataset-fashion-mnist`")),
        "boom");
    assertOneLineUsageError(r, "Cannot read Fashion-MNIST", "apt-get install -y dataset-fashion-mnist");
    Result wrongType = runFailing(new RuntimeException(new com.typesafe.config.ConfigException.WrongType(
        com.typesafe.config.ConfigOriginFactory.newSimple("--set"), "select.k", "NUMBER", "STRING")), "boom");
    assertOneLineUsageError(wrongType, "select.k");
  }

  @Test
  void successIsExitZeroAndSilentOnStderr() {
    Result r = run("stages");
    assertThat(r.code()).isZero();
    assertThat(r.err()).isEmpty();
  }

  /**
   * The real launch: a JVM through {@code main}, with the repository's log4j configuration. Its
   * whole stderr (log lines included) is the one line; the stack trace is in the log file.
   */
  @Test
  void mainPrintsOneLineAndLogsTheStackTrace(@TempDir Path tmp) throws Exception {
    Path log = tmp.resolve("semisup.log");
    Launch quiet = launch(log, false, "config", "--env", "prod");
    assertThat(quiet.code()).isEqualTo(2);
    assertThat(quiet.stderr().lines().filter(l -> !l.isBlank()).toList())
        .containsExactly("semisup: Cannot use environment 'prod': no prod.conf in conf/. Use local or yarn.");
    assertThat(Files.readString(log)).contains("config failed", "\tat io.semisup.jobs.config.SemisupConfig");

    Launch verbose = launch(log, true, "config", "--env", "prod");
    assertThat(verbose.code()).isEqualTo(2);
    assertThat(verbose.stderr()).contains("\tat io.semisup.jobs.config.SemisupConfig");
  }

  record Launch(int code, String stderr) {}

  private static Launch launch(Path log, boolean verboseEnv, String... args) throws Exception {
    Path repo = repoRoot();
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        "-Dlog4j2.configurationFile=" + repo.resolve("conf/log4j2.properties"),
        "-Dsemisup.log.file=" + log,
        SemisupCli.class.getName()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().remove(FailureHandler.VERBOSE_ENV);
    if (verboseEnv) {
      pb.environment().put(FailureHandler.VERBOSE_ENV, "1");
    }
    File err = log.resolveSibling("stderr-" + System.nanoTime() + ".txt").toFile();
    pb.redirectError(err).redirectOutput(ProcessBuilder.Redirect.DISCARD);
    Process p = pb.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("semisup %s finished", List.of(args)).isTrue();
    return new Launch(p.exitValue(), Files.readString(err.toPath(), StandardCharsets.UTF_8));
  }

  private static Path repoRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isRegularFile(dir.resolve("conf/log4j2.properties"))) {
      dir = dir.getParent();
    }
    assertThat(dir).as("repository root above %s", Path.of("").toAbsolutePath()).isNotNull();
    return dir;
  }
}
