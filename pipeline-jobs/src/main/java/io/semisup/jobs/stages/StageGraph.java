package io.semisup.jobs.stages;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pipeline's stages in execution order, with their dependencies. The CLI, the demo, the stage
 * list ({@code bin/semisup stages --json}) and the Airflow DAG all derive from this one list.
 */
public final class StageGraph {

  private final Map<String, Stage> stages = new LinkedHashMap<>();

  public StageGraph(List<Stage> ordered) {
    for (Stage s : ordered) {
      for (String dep : s.dependsOn()) {
        if (!stages.containsKey(dep)) {
          throw new IllegalArgumentException(
              "Cannot add stage " + s.name() + ": its dependency " + dep + " is not earlier in the graph");
        }
      }
      stages.put(s.name(), s);
    }
  }

  /** The full teacher/student pipeline. */
  public static StageGraph standard() {
    return new StageGraph(
        List.of(
            new ImportFashionMnistStage(),
            new ShardStage(),
            new TeacherStage(),
            new ScoreStage(),
            new DedupStage(),
            new SelectStage(),
            new StudentStage(),
            new FinetuneStage(),
            new FixresStage(),
            new EvaluateStage(),
            new AuditStage(),
            new ReportStage()));
  }

  public List<Stage> all() {
    return new ArrayList<>(stages.values());
  }

  public Stage get(String name) {
    Stage s = stages.get(name);
    if (s == null) {
      throw new IllegalArgumentException(
          "Cannot find stage '" + name + "': known stages are " + stages.keySet());
    }
    return s;
  }

  /**
   * Decides, before any work, what a command running {@code names} (in graph order) does with
   * each: a stage whose settings changed fails the whole command here, not after hours of the
   * stages before it.
   */
  public Map<String, Stage.Decision> plan(RunContext ctx, List<String> names) {
    Map<String, Stage.Decision> planned = new LinkedHashMap<>();
    for (Stage s : stages.values()) {
      if (names.contains(s.name()) && s.enabled(ctx)) {
        planned.put(s.name(), s.decide(ctx, planned));
      }
    }
    return planned;
  }

  /** The stages that read {@code name}'s output, directly or through others, in graph order. */
  public List<String> downstream(String name) {
    List<String> out = new ArrayList<>();
    java.util.Set<String> reached = new java.util.HashSet<>(List.of(name));
    for (Stage s : stages.values()) {
      if (s.dependsOn().stream().anyMatch(reached::contains)) {
        reached.add(s.name());
        out.add(s.name());
      }
    }
    return out;
  }

  /** Name -> dependencies, in order (for `stages --json` and the DAG test). */
  public Map<String, List<String>> edges() {
    Map<String, List<String>> edges = new LinkedHashMap<>();
    for (Stage s : stages.values()) {
      edges.put(s.name(), s.dependsOn());
    }
    return edges;
  }
}
