package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.choice;
import static io.semisup.jobs.config.Setting.flag;
import static io.semisup.jobs.config.Setting.integer;
import static io.semisup.jobs.config.Setting.real;

import java.util.List;

/**
 * The training recipe shared by {@code train-defaults}, {@code teacher}, {@code student} and
 * {@code finetune}: one declaration per key, repeated under each of those sections.
 */
public record TrainSettings(
    int epochs, int batchSize, double learningRate, String schedule, double warmupFraction, double momentum,
    double weightDecay, double labelSmoothing, boolean augmentFlip, int augmentShift, double augmentErase,
    double mixupAlpha, double enormC, int workers, int averagingFrequency, int inputSize, double cropMinArea,
    int randaugmentOps, int randaugmentMagnitude) {

  /** Learning-rate schedules of {@code io.semisup.core.train.LrSchedule}. */
  static final List<String> SCHEDULES = List.of("onecycle", "cosine", "step", "constant");

  /** The keys of one training section, e.g. {@code teacher.epochs} for section {@code teacher}. */
  static List<Setting> schema(String section) {
    String p = section + ".";
    return List.of(
        integer(p + "epochs", Range.atLeast(0), "Passes over the training data (0: the model is passed on as is)."),
        integer(p + "batch-size", Range.atLeast(1), "Images per minibatch, per worker."),
        real(p + "learning-rate", Range.above(0), "Peak learning rate (SGD with Nesterov momentum)."),
        choice(p + "schedule", SCHEDULES, "Learning-rate schedule; warmup-fraction applies to onecycle."),
        real(p + "warmup-fraction", Range.closed(0, 1), "Share of the steps spent warming up (onecycle)."),
        real(p + "momentum", Range.closedOpen(0, 1), "Nesterov momentum."),
        real(p + "weight-decay", Range.atLeast(0), "L2 weight decay."),
        real(p + "label-smoothing", Range.closedOpen(0, 1), "Smoothing of the one-hot targets (0 = none)."),
        flag(p + "augment-flip", "Random horizontal flips."),
        integer(p + "augment-shift", Range.atLeast(0), "Random shifts of up to this many pixels."),
        real(p + "augment-erase", Range.closed(0, 1), "Probability of random erasing (a random rectangle replaced by noise; 0 = off)."),
        real(p + "mixup-alpha", Range.atLeast(0), "Mixup with weights from Beta(alpha, alpha) (0 = off)."),
        real(p + "enorm-c", Range.atLeast(0), "ENorm: one equi-normalization cycle after every SGD step with this c (0 = off; for BN-free networks)."),
        integer(p + "workers", Range.atLeast(0), "dl4j-spark model replicas (0 = Spark's default parallelism)."),
        integer(p + "averaging-frequency", Range.atLeast(1), "Minibatches each replica fits between two parameter averagings."),
        integer(p + "input-size", Range.atLeast(0), "Training resolution, square (0 = the data's, model.input.size; FixRes trains low and fixes high)."),
        real(p + "crop-min-area", Range.closed(0, 1), "RandomResizedCrop: smallest area fraction of a random crop, aspect 3/4-4/3, resized to input-size (0 = off: the whole image resized)."),
        integer(p + "randaugment-ops", Range.atLeast(0), "RandAugment (Noisy Student's input noise): operations per image, drawn from shear, translate, rotate, brightness, contrast, sharpness, posterize, solarize, autocontrast, equalize, identity (0 = off).").addedLater("0"),
        integer(p + "randaugment-magnitude", Range.closed(0, 30), "RandAugment: strength of every operation, 0-30 (30: rotations of 30 degrees, shears of 0.3).").addedLater("9"));
  }

  /** The square training resolution, or {@code dataSize} when {@code input-size} is 0. */
  public int resolution(int dataSize) {
    return inputSize > 0 ? inputSize : dataSize;
  }

  static TrainSettings from(SettingsReader r, String section) {
    String p = section + ".";
    return new TrainSettings(r.intOf(p + "epochs"), r.intOf(p + "batch-size"), r.doubleOf(p + "learning-rate"),
        r.stringOf(p + "schedule"), r.doubleOf(p + "warmup-fraction"), r.doubleOf(p + "momentum"),
        r.doubleOf(p + "weight-decay"), r.doubleOf(p + "label-smoothing"), r.booleanOf(p + "augment-flip"),
        r.intOf(p + "augment-shift"), r.doubleOf(p + "augment-erase"), r.doubleOf(p + "mixup-alpha"),
        r.doubleOf(p + "enorm-c"), r.intOf(p + "workers"), r.intOf(p + "averaging-frequency"),
        r.intOf(p + "input-size"), r.doubleOf(p + "crop-min-area"), r.intOf(p + "randaugment-ops"),
        r.intOf(p + "randaugment-magnitude"));
  }
}
