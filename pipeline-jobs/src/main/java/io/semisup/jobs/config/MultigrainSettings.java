package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.flag;
import static io.semisup.jobs.config.Setting.integer;
import static io.semisup.jobs.config.Setting.real;

import io.semisup.core.multigrain.MultigrainObjective;
import java.util.List;

/**
 * {@code teacher.multigrain.*}: the MultiGrain objective (arXiv:1902.05509) for the teacher,
 * {@code lambda CE + (1 - lambda) margin loss} over batches of repeated augmentations, so that
 * the teacher's pooled features are also instance embeddings for {@code dedup}.
 */
public record MultigrainSettings(boolean enabled, double lambda, double margin, double betaInit, int repeats) {

  static final String P = "teacher.multigrain.";

  static List<Setting> schema() {
    return List.of(
        flag(P + "enabled", "Train the teacher with the MultiGrain objective (in the driver's JVM, not dl4j-spark; docs/results.md, \"MultiGrain\")."),
        real(P + "lambda", Range.closed(0, 1), "Weight of the cross-entropy; the margin loss gets 1 - lambda (the paper: 0.5)."),
        real(P + "margin", Range.openClosed(0, 2), "Margin alpha of the margin loss on L2-normalised pooled features."),
        real(P + "beta-init", Range.openClosed(0, 2), "Starting value of the learnable boundary beta between positive and negative distances."),
        integer(P + "repeats", Range.atLeast(2), "Copies of each image in a batch, each augmented on its own (teacher.batch-size must be a multiple)."));
  }

  static MultigrainSettings from(SettingsReader r) {
    return new MultigrainSettings(r.booleanOf(P + "enabled"), r.doubleOf(P + "lambda"), r.doubleOf(P + "margin"),
        r.doubleOf(P + "beta-init"), r.intOf(P + "repeats"));
  }

  /** The model-core objective these settings describe. */
  public MultigrainObjective objective() {
    return new MultigrainObjective(lambda, margin, betaInit, repeats);
  }
}
