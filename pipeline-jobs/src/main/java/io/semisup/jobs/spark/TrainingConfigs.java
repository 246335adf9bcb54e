package io.semisup.jobs.spark;

import io.semisup.core.image.RandAugment;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.config.TrainSettings;

/** Turns a training section ({@code teacher}, {@code student}, {@code finetune}) into the trainer's config. */
public final class TrainingConfigs {

  private TrainingConfigs() {}

  public static TrainingConfig from(TrainSettings c, long seed) {
    return new TrainingConfig(
        c.epochs(),
        c.batchSize(),
        c.learningRate(),
        c.schedule(),
        c.warmupFraction(),
        c.momentum(),
        c.weightDecay(),
        c.augmentFlip(),
        c.augmentShift(),
        c.augmentErase(),
        c.labelSmoothing(),
        c.mixupAlpha(),
        seed,
        c.enormC(),
        c.randaugmentOps() == 0 ? RandAugment.NONE : new RandAugment(c.randaugmentOps(), c.randaugmentMagnitude()));
  }
}
