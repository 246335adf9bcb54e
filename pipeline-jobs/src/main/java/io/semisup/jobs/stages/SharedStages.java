package io.semisup.jobs.stages;

import io.semisup.jobs.config.SemisupConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which of a base run's stages a variant of it may read instead of computing them: those the
 * variant would compute identically (equal settings) and whose inputs it also shares.
 *
 * <p>Why: the ablation runs each cell as a variant of one base run per seed, sharing its import,
 * shard, teacher and scoring. A cell that changes a setting one of those stages reads (say
 * {@code teacher.epochs}) must compute that stage and every stage after it itself; sharing it
 * would report the base's teacher under the cell's name. {@link Stage#decide} refuses such a share
 * with the differing keys named; this class lets the caller avoid asking for it.
 */
public final class SharedStages {

  private SharedStages() {}

  /**
   * The stages of {@code wanted} (in pipeline order) that a run configured as {@code variant}
   * can share from a run configured as {@code base}: a stage is kept when its settings are equal
   * under both and no stage it depends on is computed anew by the variant.
   */
  public static List<String> shareable(StageGraph graph, SemisupConfig base, SemisupConfig variant,
      List<String> wanted) {
    Set<String> recomputed = new HashSet<>();
    List<String> kept = new ArrayList<>();
    for (Stage stage : graph.all()) {
      boolean inputsRecomputed = stage.dependsOn().stream().anyMatch(recomputed::contains);
      if (wanted.contains(stage.name()) && !inputsRecomputed && stage.sameSettings(base, variant)) {
        kept.add(stage.name());
      } else {
        recomputed.add(stage.name());
      }
    }
    return kept;
  }
}
