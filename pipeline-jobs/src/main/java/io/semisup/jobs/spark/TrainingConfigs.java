package io.semisup.jobs.spark;

import com.typesafe.config.Config;
import io.semisup.core.train.TrainingConfig;

/** Reads a training section ({@code teacher}, {@code student}, {@code finetune}) of the HOCON config. */
public final class TrainingConfigs {

  private TrainingConfigs() {}

  public static TrainingConfig from(Config c, long seed) {
    return new TrainingConfig(
        c.getInt("epochs"),
        c.getInt("batch-size"),
        c.getDouble("learning-rate"),
        c.getString("schedule"),
        c.getDouble("warmup-fraction"),
        c.getDouble("momentum"),
        c.getDouble("weight-decay"),
        c.getBoolean("augment-flip"),
        c.getInt("augment-shift"),
        c.getDouble("augment-erase"),
        c.getDouble("label-smoothing"),
        c.getDouble("mixup-alpha"),
        seed,
        c.hasPath("enorm-c") ? c.getDouble("enorm-c") : 0.0);
  }
}
