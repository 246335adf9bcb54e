package io.semisup.jobs.cli;

import io.semisup.core.UsageError;
import io.semisup.core.dl4j.Dl4jPatches;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.SparkSessions;
import io.semisup.jobs.stages.RunContext;
import io.semisup.jobs.stages.Stage;
import io.semisup.jobs.stages.StageGraph;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code bin/semisup}: one subcommand per stage plus demo, stages and config. Each stage class
 * also has a {@code main} for {@code spark-submit --class}; both go through here so they read the
 * same configuration the same way.
 *
 * <p>Errors end as one line on stderr and an exit status ({@link FailureHandler}): 2 for a
 * mistake the user can fix, 1 for a failed job, 0 for success; {@code --verbose} adds the stack
 * trace.
 */
@Command(
    name = "semisup",
    mixinStandardHelpOptions = true,
    version = "semisup 0.1.0",
    description = {
      "Billion-scale semi-supervised learning (Yalniz et al. 2019) on Spark:",
      "teacher -> score unlabelled images -> select top-K per class -> student -> fine-tune.",
      "",
      "Quick start: bin/semisup demo (Fashion-MNIST, local Spark, about 19 min on 2 cores).",
      "Own images:  bin/semisup run --labelled DIR --test DIR --unlabelled DIR"
    },
    subcommands = {
      DemoCommand.class, RunCommand.class, StagesCommand.class, ConfigCommand.class, ExportCommand.class,
      AblateCommand.class, io.semisup.jobs.bench.BenchCommand.class
    })
public final class SemisupCli implements Runnable {

  /** Read by {@link FailureHandler} from the parse result; declared here so every command takes it. */
  @Option(
      names = FailureHandler.VERBOSE_OPTION,
      scope = ScopeType.INHERIT,
      description = "Print the stack trace of an error (also: environment SEMISUP_VERBOSE=1).")
  boolean verbose;

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }

  /**
   * Builds the command line with every stage as a subcommand, and the error handling that turns
   * exceptions into one line and exit status 2 (usage) or 1 (job failure).
   */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new SemisupCli());
    for (Stage stage : StageGraph.standard().all()) {
      CommandLine sub = new CommandLine(new StageCommand(stage));
      sub.getCommandSpec().usageMessage().description(stage.description());
      sub.getCommandSpec().usageMessage().footer(StageHelp.footer(stage));
      cli.addSubcommand(stage.name(), sub);
    }
    FailureHandler failures =
        new FailureHandler(FailureHandler.verboseEnvironment(System.getenv(FailureHandler.VERBOSE_ENV)));
    cli.setExecutionExceptionHandler(failures);
    cli.setParameterExceptionHandler(failures);
    return cli;
  }

  public static void main(String[] args) {
    Dl4jPatches.install(Dl4jPatches.Options.fromSystemProperties());
    System.exit(commandLine().execute(args));
  }

  /**
   * Entry point of a stage class's main (spark-submit): the same as `semisup <stage> args`, with
   * the same exit status. In YARN cluster mode spark-submit cannot pass it on: the application
   * fails, and spark-submit exits 1 whatever the driver's status was (see deploy/yarn/submit.sh).
   */
  public static void runStage(String stage, String[] args) {
    Dl4jPatches.install(Dl4jPatches.Options.fromSystemProperties());
    String[] all = new String[args.length + 1];
    all[0] = stage;
    System.arraycopy(args, 0, all, 1, args.length);
    int code = commandLine().execute(all);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** Runs one stage of a run (skipped if already committed). */
  @Command(mixinStandardHelpOptions = true)
  static final class StageCommand implements Callable<Integer> {
    private final Stage stage;

    @Mixin RunOptions options;

    StageCommand(Stage stage) {
      this.stage = stage;
    }

    @Override
    public Integer call() {
      SemisupConfig config = options.load();
      config.validateFor(java.util.List.of(stage.name()));
      SparkSession spark = SparkSessions.create(config);
      try {
        RunContext ctx = runContext(spark, config);
        System.out.println("run: " + ctx.runDir());
        Stage.Outcome outcome = stage.execute(ctx);
        System.out.println(
            stage.name() + ": " + (outcome.skipped() ? "skipped: " + outcome.why() : "committed")
                + " -> " + outcome.dir());
        if (!outcome.skipped()) {
          List<String> stale = StageGraph.standard().downstream(stage.name()).stream()
              .filter(ctx::isCommitted).toList();
          if (!stale.isEmpty()) {
            System.out.println("stale now (the next command that runs them recomputes them): "
                + String.join(", ", stale));
          }
        }
        return 0;
      } finally {
        spark.stop();
      }
    }

    /** A bad run id or base-run is a setting the user fixes. */
    private RunContext runContext(SparkSession spark, SemisupConfig config) {
      try {
        return new RunContext(spark, config)
            .describedAs("semisup " + stage.name() + " --run-id " + config.getString("run-id"));
      } catch (IllegalArgumentException e) {
        throw new UsageError(e.getMessage(), e);
      }
    }
  }
}
