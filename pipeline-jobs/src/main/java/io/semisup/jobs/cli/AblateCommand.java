package io.semisup.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semisup.core.UsageError;
import io.semisup.jobs.ablate.AblationGrid;
import io.semisup.jobs.ablate.AblationPlots;
import io.semisup.jobs.ablate.AblationTable;
import io.semisup.jobs.ablate.CellResult;
import io.semisup.jobs.ablate.Variant;
import io.semisup.jobs.config.AblateSettings;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.SparkSessions;
import io.semisup.jobs.stages.Accuracy;
import io.semisup.jobs.stages.EvaluateStage;
import io.semisup.jobs.stages.FinetuneStage;
import io.semisup.jobs.stages.SelectStage;
import io.semisup.jobs.stages.StudentStage;
import io.semisup.jobs.stages.ImportFashionMnistStage;
import io.semisup.jobs.stages.ReportStage;
import io.semisup.jobs.stages.Rounds;
import io.semisup.jobs.stages.RunContext;
import io.semisup.jobs.stages.ScoreStage;
import io.semisup.jobs.stages.ShardStage;
import io.semisup.jobs.stages.SharedStages;
import io.semisup.jobs.stages.Stage;
import io.semisup.jobs.stages.StageGraph;
import io.semisup.jobs.stages.TeacherStage;
import io.semisup.jobs.tables.Tables;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bin/semisup ablate}: the paper's ablations as a grid of pipeline runs that share what
 * they can. Per seed, one base run (the demo's configuration) trains the teacher and scores the
 * pool once; every cell is a run whose {@code base-run} is that run, so it only selects, trains,
 * fine-tunes and evaluates. Cells with the same effective settings share one run, and committed
 * runs are skipped, so an interrupted ablation resumes. Writes results.csv, runs.csv, results.md
 * and one PNG per axis into {@code <root>/<run-id>/}.
 */
@Command(
    name = "ablate",
    mixinStandardHelpOptions = true,
    description = {
      "Run the ablation grid over seeds: K, P, pool size, recipe, student architecture, rounds, the teacher alone.",
      "One teacher and one scoring pass per seed are shared, plus the all-labels ceiling; writes"
          + " <root>/<run-id>/results.{csv,md}, runs.csv and <axis>.png. Values: semisup.ablate.*.",
      "Each cell costs one student training (3-7 minutes on 2 cores, more with K)."
    })
final class AblateCommand implements Callable<Integer> {

  /** The stages each cell runs itself; the ones before them come from the seed's base run. */
  private static final List<String> CELL_STAGES =
      List.of(SelectStage.NAME, StudentStage.NAME, FinetuneStage.NAME, EvaluateStage.NAME);

  /** What a teacher-only run computes: the ceiling and the teacher axis. */
  private static final List<Stage> TEACHER_STAGES = List.of(StageGraph.standard().get(ImportFashionMnistStage.NAME),
      StageGraph.standard().get(ShardStage.NAME), StageGraph.standard().get(TeacherStage.NAME));

  /** The setting the rounds axis varies. */
  private static final String ROUNDS_KEY = "rounds";

  /** Stages later rounds share with round 1, and the report, which ablate does not run. */
  private static final List<String> ROUND_ONE_STAGES =
      List.of(ImportFashionMnistStage.NAME, ShardStage.NAME, ReportStage.NAME);

  @Mixin RunOptions options;

  @Option(names = "--axes", split = ",",
      description = "Axes to run, comma-separated (default: semisup.ablate.axes). Known: k, p, pool, recipe, arch, mode, rounds, cells (any lever: semisup.ablate.cells).")
  List<String> axes;

  @Option(names = "--seeds", split = ",",
      description = "Seeds, comma-separated (default: semisup.ablate.seeds).")
  List<Long> seeds;

  @Option(names = "--table", paramLabel = "NAME",
      description = "Write the table and charts to <root>/<run-id>/NAME/ instead of <root>/<run-id>/, "
          + "e.g. for more seeds of a few cells next to a one-seed grid of the same runs.")
  String tableName;

  @Option(names = "--no-ceiling", description = "Skip the all-labels ceiling (the most expensive run).")
  boolean noCeiling;

  @Override
  public Integer call() throws Exception {
    options.requireNoRound("ablate");
    for (String o : options.overrides) {
      if (AblateSettings.keyOf(o).equals(ROUNDS_KEY)) {
        throw new UsageError("Cannot --set " + o + " for ablate: every cell is one round. Measure rounds with"
            + " --axes rounds (ablate.rounds-values) or an ablate.cells entry such as \"rounds=2; select.k=5000\".");
      }
    }
    SemisupConfig config = options.load();
    config.validateFor(StageGraph.standard().all().stream().map(Stage::name).toList());
    AblateSettings ablate = config.settings().ablate();
    List<String> axisList = axes != null ? axes : ablate.axes();
    List<Long> seedList = seeds != null ? seeds : ablate.seeds();
    List<Variant> cells = AblationGrid.cells(ablate, axisList);
    boolean ceiling = !noCeiling && ablate.ceiling();
    String id = config.settings().run().runId();
    // Every cell's configuration is loaded (and so validated) before any Spark work.
    for (long seed : seedList) {
      for (Variant cell : cells) {
        load(seed, cell.overrides(), id + "-s" + seed, id + "-check");
      }
    }
    System.out.printf("ablation %s: %d cells x %d seeds%s%n", id, cells.size(), seedList.size(),
        ceiling ? " + ceiling" : "");
    SparkSession spark = SparkSessions.create(config);
    try {
      List<CellResult> results = new ArrayList<>();
      List<Double> ceilings = new ArrayList<>();
      List<Double> ceilingsValidation = new ArrayList<>();
      for (long seed : seedList) {
        results.addAll(runSeed(spark, id, seed, cells));
        if (ceiling) {
          double[] c = ceiling(spark, id, seed, ablate.ceilingSet());
          ceilings.add(c[0]);
          ceilingsValidation.add(c[1]);
        }
      }
      AblationTable table = new AblationTable(results, ceilings, ceilingsValidation);
      RunContext out = new RunContext(spark, config);
      Path dir = tableName == null ? out.runDir() : new Path(out.runDir(), tableName);
      out.fs().mkdirs(dir);
      out.writeString(new Path(dir, "results.csv"), table.csv());
      out.writeString(new Path(dir, "runs.csv"), table.perSeedCsv());
      out.writeString(new Path(dir, "results.md"), table.markdown());
      out.writeString(new Path(dir, "chosen.json"),
          RunContext.json().writerWithDefaultPrettyPrinter().writeValueAsString(table.choice()));
      for (Map.Entry<String, byte[]> png : AblationPlots.render(table).entrySet()) {
        out.writeBytes(new Path(dir, png.getKey()), png.getValue());
      }
      System.out.println();
      System.out.print(table.markdown());
      System.out.println("results: " + dir);
      return 0;
    } finally {
      spark.stop();
    }
  }

  private List<CellResult> runSeed(SparkSession spark, String id, long seed, List<Variant> cells)
      throws Exception {
    String baseId = id + "-s" + seed;
    SemisupConfig base = load(seed, List.of(), baseId, "");
    RunContext baseCtx = run(spark, base, StageGraph.standard().all());
    JsonNode baseTeacher = metrics(baseCtx).get("teacher");
    double teacherTop1 = baseTeacher.get("top1").asDouble();
    double teacherValidation = validationTop1(baseTeacher);
    Map<String, String> runByKey = new HashMap<>();
    List<CellResult> out = new ArrayList<>();
    for (Variant cell : cells) {
      List<String> effective = effective(base, cell.overrides());
      // A rounds override names how many rounds follow this run, not a setting of its stages:
      // round 1 of "rounds=3" is the same run as the base configuration's.
      int rounds = 1;
      List<String> firstRound = new ArrayList<>();
      for (String o : effective) {
        if (AblateSettings.keyOf(o).equals(ROUNDS_KEY)) {
          rounds = Integer.parseInt(AblateSettings.valueOf(o));
        } else {
          firstRound.add(o);
        }
      }
      String key = String.join(",", new TreeSet<>(firstRound));
      String runId = key.isEmpty() ? baseId
          : runByKey.computeIfAbsent(key, k -> baseId + "." + firstRoundSlug(cell));
      SemisupConfig first = runId.equals(baseId) ? base : load(seed, firstRound, runId, baseId);
      if (cell.teacherOnly()) {
        out.add(teacherCell(spark, cell, seed, runId.equals(baseId) ? baseCtx : null, first,
            teacherTop1, teacherValidation));
        continue;
      }
      RunContext ctx = runId.equals(baseId) ? baseCtx : run(spark, first, StageGraph.standard().all());
      double seconds = ownSeconds(ctx);
      RunContext firstCtx = ctx;
      for (int r = 2; r <= rounds; r++) {
        // The run demo writes for the same round, so committed rounds are reused.
        ctx = run(spark, Rounds.configFor(first, r), StageGraph.standard().all());
        seconds += roundSeconds(ctx);
      }
      // The table's teacher row is the base run's; a cell that trains its own teacher is measured
      // from it (its gap, AblationTable) and shows it here.
      double ownTeacherTop1 = Double.NaN;
      String teacherNote = "";
      if (!runId.equals(baseId) && !firstCtx.isShared(TeacherStage.NAME)) {
        JsonNode ownTeacher = metrics(firstCtx).get("teacher");
        ownTeacherTop1 = ownTeacher.get("top1").asDouble();
        teacherNote = String.format(" (its own teacher: validation %.2f%%, test %.2f%%)",
            100 * validationTop1(ownTeacher), 100 * ownTeacherTop1);
      }
      JsonNode m = metrics(ctx);
      JsonNode precision = m.get("pseudo_label_precision");
      out.add(new CellResult(cell, seed, ctx.runId(), m.get(cell.model()).get("top1").asDouble(),
          teacherTop1, precision == null || precision.isNull() ? Double.NaN : precision.asDouble(),
          seconds, validationTop1(m.get(cell.model())), teacherValidation, ownTeacherTop1));
      System.out.printf("[ablate] seed %d %-12s %-45s validation top-1 %.2f%%, test top-1 %.2f%%%s%n", seed,
          cell.axis(), cell.label(), 100 * out.get(out.size() - 1).validationTop1(),
          100 * out.get(out.size() - 1).top1(), teacherNote);
    }
    return out;
  }

  /**
   * The run-id suffix of a cell's first round: its slug without its rounds override, so that the
   * cell "student.epochs=12; rounds=3" starts from the run of the cell "student.epochs=12"
   * instead of training the same first round again under another name.
   */
  private static String firstRoundSlug(Variant cell) {
    List<String> withoutRounds = cell.overrides().stream()
        .filter(o -> !AblateSettings.keyOf(o).equals(ROUNDS_KEY)).toList();
    if (withoutRounds.size() == cell.overrides().size()) {
      return cell.slug();
    }
    return new Variant(cell.axis(), String.join("; ", withoutRounds), withoutRounds, cell.model(), cell.x()).slug();
  }

  /**
   * A cell of the teacher axis: the teacher alone (import and shard shared from the base run),
   * evaluated on test and validation; the base configuration's cell is the base run's teacher.
   */
  private static CellResult teacherCell(SparkSession spark, Variant cell, long seed, RunContext baseCtx,
      SemisupConfig config, double baseTop1, double baseValidation) throws Exception {
    RunContext ctx = baseCtx != null ? baseCtx : run(spark, config, TEACHER_STAGES);
    double[] acc = baseCtx != null ? new double[] {baseTop1, baseValidation} : teacherAccuracy(ctx, "teacher.json");
    double seconds = ctx.manifest(TeacherStage.NAME).get("duration_s").asDouble();
    System.out.printf("[ablate] seed %d %-12s %-45s teacher alone: validation top-1 %.2f%%, test top-1 %.2f%%%n",
        seed, cell.axis(), cell.label(), 100 * acc[1], 100 * acc[0]);
    return new CellResult(cell, seed, ctx.runId(), acc[0], baseTop1, Double.NaN, seconds, acc[1], baseValidation);
  }

  /**
   * {test, validation} top-1 of a run's teacher stage, cached in {@code <run>/<file>} (validation
   * NaN without a validation split); a cache written before validation figures existed is redone.
   */
  private static double[] teacherAccuracy(RunContext ctx, String file) throws Exception {
    Path cache = new Path(ctx.runDir(), file);
    if (ctx.fs().exists(cache)) {
      JsonNode cached = RunContext.json().readTree(ctx.readBytes(cache));
      if (cached.has("validation_top1")) {
        return new double[] {cached.get("top1").asDouble(), validationTop1(cached)};
      }
    }
    double[] acc = Accuracy.ofStage(ctx, TeacherStage.NAME);
    double[] validation = Accuracy.ofStage(ctx, TeacherStage.NAME, Tables.VALIDATION);
    ObjectNode n = RunContext.json().createObjectNode().put("top1", acc[0]).put("top5", acc[1]);
    if (validation == null) {
      n.putNull("validation_top1");
    } else {
      n.put("validation_top1", validation[0]).put("validation_top5", validation[1]);
    }
    ctx.writeString(cache, n.toString());
    return new double[] {acc[0], validation == null ? Double.NaN : validation[0]};
  }

  /** A model's validation top-1 in metrics.json, NaN when the run had no validation split. */
  private static double validationTop1(JsonNode model) {
    JsonNode v = model.get("validation_top1");
    return v == null || v.isNull() ? Double.NaN : v.asDouble();
  }

  /**
   * {test, validation} top-1 of the teacher architecture trained on every labelled image (cached
   * in the run; validation NaN when the ceiling run has no validation split).
   */
  private double[] ceiling(SparkSession spark, String id, long seed, List<String> set)
      throws Exception {
    SemisupConfig c = load(seed, set, id + "-ceiling-s" + seed, "");
    double[] acc = teacherAccuracy(run(spark, c, TEACHER_STAGES), "ceiling.json");
    System.out.printf("[ablate] seed %d ceiling (all labels) test top-1 %.2f%%, validation top-1 %s%n", seed,
        100 * acc[0], Double.isNaN(acc[1]) ? "(no validation split)" : String.format("%.2f%%", 100 * acc[1]));
    return acc;
  }

  private SemisupConfig load(long seed, List<String> extra, String runId, String baseRun) {
    // Later entries win: the cell's settings and the seed override the user's --set values.
    List<String> all = new ArrayList<>();
    if (options.root != null) {
      all.add("root=\"" + options.root + "\"");
    }
    if (options.force) {
      all.add("force=true");
    }
    all.addAll(options.overrides);
    // Every cell is one round unless its own overrides say otherwise (the rounds axis, or
    // rounds=R in an ablate.cells entry): the demo's default of more rounds would multiply the
    // grid's cost.
    all.add(ROUNDS_KEY + "=1");
    all.add("base-run=\"" + baseRun + "\"");
    all.add("seed=" + seed);
    List<String> baseOnly = new ArrayList<>(all);
    all.addAll(extra);
    SemisupConfig config = SemisupConfig.load(options.env, options.preset, options.configFile, all).with("run-id", runId);
    if (baseRun.isEmpty()) {
      return config;
    }
    // A cell changing what a shared stage reads (teacher.epochs, say) computes that stage and
    // the ones after it itself instead of reporting the base run's under its own name.
    SemisupConfig base = SemisupConfig.load(options.env, options.preset, options.configFile, baseOnly);
    return config.with("shared-stages", SharedStages.shareable(StageGraph.standard(), base, config,
        config.settings().run().sharedStages()));
  }

  /** Overrides that change something: a cell equal to the base configuration reuses its run. */
  private static List<String> effective(SemisupConfig base, List<String> overrides) {
    List<String> out = new ArrayList<>();
    for (String o : overrides) {
      String key = AblateSettings.keyOf(o);
      String value = AblateSettings.valueOf(o);
      boolean same = base.raw().hasPath(key)
          && String.valueOf(base.raw().getValue(key).unwrapped()).equals(value);
      if (!same) {
        out.add(o);
      }
    }
    return out;
  }

  private static RunContext run(SparkSession spark, SemisupConfig config, List<Stage> stages) {
    RunContext ctx = new RunContext(spark, config);
    for (Stage stage : stages) {
      if (!stage.name().equals(ReportStage.NAME)) {
        stage.execute(ctx);
      }
    }
    return ctx;
  }

  private static JsonNode metrics(RunContext ctx) throws Exception {
    return RunContext.json().readTree(
        ctx.readBytes(new Path(ctx.stageDir(EvaluateStage.NAME), EvaluateStage.METRICS_JSON)));
  }

  /**
   * Seconds of every stage of a later round: its teacher (round r-1's student, saved as is),
   * scoring and everything after; import and shard are round 1's.
   */
  private static double roundSeconds(RunContext ctx) throws Exception {
    double s = 0;
    for (Stage stage : StageGraph.standard().all()) {
      String name = stage.name();
      Path manifest = new Path(ctx.stageDir(name), Stage.MANIFEST);
      if (!ROUND_ONE_STAGES.contains(name) && ctx.fs().exists(manifest)) {
        JsonNode d = ctx.manifest(name).get("duration_s");
        s += d == null ? 0 : d.asDouble();
      }
    }
    return s;
  }

  /** Seconds of a cell's own stages (teacher and scoring only where the cell changes them). */
  private static double ownSeconds(RunContext ctx) {
    double s = 0;
    for (String stage : CELL_STAGES) {
      s += ctx.manifest(stage).get("duration_s").asDouble();
    }
    // A cell that changes the teacher's or the scoring's settings computes them itself.
    if (!ctx.settings().run().baseRun().isEmpty()) {
      for (String stage : List.of(TeacherStage.NAME, ScoreStage.NAME)) {
        if (!ctx.isShared(stage)) {
          s += ctx.manifest(stage).get("duration_s").asDouble();
        }
      }
    }
    return s;
  }
}
