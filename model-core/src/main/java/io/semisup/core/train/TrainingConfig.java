package io.semisup.core.train;

import io.semisup.core.image.Augmenter;
import io.semisup.core.image.RandAugment;
import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * Every hyper-parameter of one training run (teacher, student or fine-tuning).
 *
 * <p>Why a record: the same values drive {@link LocalTrainer} and the Spark trainer, and are
 * written into run manifests, so they must be one immutable, serializable value. The learning
 * rate follows {@link #schedule} over {@code epochs * ceil(n / batchSize)} iterations; the
 * optimizer is SGD with Nesterov momentum and L2 weight decay (PyTorch-style, on weights only).
 *
 * @param epochs passes over the training set
 * @param batchSize minibatch size (larger is faster in DL4J; see the recipe findings)
 * @param learningRate peak learning rate
 * @param schedule "onecycle", "cosine", "step" or "constant" (see {@link LrSchedule})
 * @param warmupFraction share of iterations spent warming up ("onecycle" only)
 * @param momentum Nesterov momentum
 * @param weightDecay L2 coefficient on weights (not biases, not BatchNorm)
 * @param augmentFlip random horizontal flips during training
 * @param augmentShift random translation of up to this many pixels during training
 * @param augmentErase probability of random erasing (a random rectangle of noise) per image
 * @param labelSmoothing epsilon of label smoothing (targets (1-eps)*onehot + eps/classes)
 * @param mixupAlpha mixup (Zhang et al. 2018): blend each minibatch with a shuffled copy of
 *     itself, weight drawn from Beta(alpha, alpha); 0 disables it (see {@link Mixup})
 * @param seed seeds weight init, shuffling and augmentation
 * @param enormC equi-normalization after every SGD step with this c ({@code ||outgoing|| = c *
 *     ||incoming||} per hidden unit; see {@code io.semisup.core.enorm.EquiNormalizer}); 0 disables
 *     it. Meant for the BN-free architectures (the paper uses 1 to 1.2)
 * @param randAugment RandAugment operations on each training image ({@link RandAugment#NONE}: off)
 */
public record TrainingConfig(
    int epochs,
    int batchSize,
    double learningRate,
    String schedule,
    double warmupFraction,
    double momentum,
    double weightDecay,
    boolean augmentFlip,
    int augmentShift,
    double augmentErase,
    double labelSmoothing,
    double mixupAlpha,
    long seed,
    double enormC,
    RandAugment randAugment)
    implements Serializable {

  /** Valid {@link #schedule} values. */
  public static final List<String> SCHEDULES = List.of("onecycle", "cosine", "step", "constant");

  public TrainingConfig {
    if (epochs < 0) {
      throw new IllegalArgumentException("Cannot train " + epochs + " epochs: must be >= 0");
    }
    if (batchSize < 2) {
      throw new IllegalArgumentException(
          "Cannot use batch size " + batchSize + ": BatchNorm needs at least 2");
    }
    if (!(learningRate > 0)) {
      throw new IllegalArgumentException("Cannot use learning rate " + learningRate);
    }
    schedule = schedule.toLowerCase(Locale.ROOT);
    if (!SCHEDULES.contains(schedule)) {
      throw new IllegalArgumentException(
          "Cannot use LR schedule '" + schedule + "': valid are " + SCHEDULES);
    }
    if (warmupFraction < 0 || warmupFraction >= 1) {
      throw new IllegalArgumentException("Cannot use warm-up fraction " + warmupFraction);
    }
    if (labelSmoothing < 0 || labelSmoothing >= 1) {
      throw new IllegalArgumentException("Cannot use label smoothing " + labelSmoothing);
    }
    if (augmentErase < 0 || augmentErase > 1) {
      throw new IllegalArgumentException(
          "Cannot erase with probability " + augmentErase + ": must be in [0, 1]");
    }
    new Mixup(mixupAlpha); // validates alpha, one message for both
    if (augmentShift < 0) {
      throw new IllegalArgumentException("Cannot shift by " + augmentShift + " pixels");
    }
    java.util.Objects.requireNonNull(randAugment, "randAugment (RandAugment.NONE for none)");
    if (!(enormC >= 0) || Double.isInfinite(enormC)) {
      throw new IllegalArgumentException(
          "Cannot equi-normalize with enorm-c = " + enormC + ": use 0 (off) or a positive c such as 1");
    }
  }

  /** A config without RandAugment, for callers that predate it. */
  public TrainingConfig(int epochs, int batchSize, double learningRate, String schedule,
      double warmupFraction, double momentum, double weightDecay, boolean augmentFlip,
      int augmentShift, double augmentErase, double labelSmoothing, double mixupAlpha, long seed,
      double enormC) {
    this(epochs, batchSize, learningRate, schedule, warmupFraction, momentum, weightDecay,
        augmentFlip, augmentShift, augmentErase, labelSmoothing, mixupAlpha, seed, enormC, RandAugment.NONE);
  }

  /** A config without equi-normalization (enorm-c = 0), for callers that predate it. */
  public TrainingConfig(int epochs, int batchSize, double learningRate, String schedule,
      double warmupFraction, double momentum, double weightDecay, boolean augmentFlip,
      int augmentShift, double augmentErase, double labelSmoothing, double mixupAlpha, long seed) {
    this(epochs, batchSize, learningRate, schedule, warmupFraction, momentum, weightDecay,
        augmentFlip, augmentShift, augmentErase, labelSmoothing, mixupAlpha, seed, 0.0);
  }

  /** A reasonable starting point (the teacher recipe of the experiments). */
  public static TrainingConfig defaults() {
    return new TrainingConfig(30, 64, 0.1, "onecycle", 0.15, 0.9, 5e-4, true, 2, 0.0, 0.0, 0.0, 42L);
  }

  /** The augmentation this config asks for. */
  public Augmenter augmenter() {
    return augmentFlip || augmentShift > 0 || augmentErase > 0 || !randAugment.isIdentity()
        ? new Augmenter(augmentFlip, augmentShift, augmentErase, randAugment)
        : Augmenter.NONE;
  }

  /** The mixup this config asks for ({@link Mixup#NONE} when alpha is 0). */
  public Mixup mixup() {
    return mixupAlpha > 0 ? new Mixup(mixupAlpha) : Mixup.NONE;
  }

  /** Minibatch updates per epoch over {@code n} examples (a last partial batch counts). */
  public int iterationsPerEpoch(long n) {
    return (int) Math.max(1, (n + batchSize - 1) / batchSize);
  }

  /** The learning-rate schedule for a run over {@code n} training examples. */
  public ISchedule lrSchedule(long n) {
    int total = Math.max(1, epochs * iterationsPerEpoch(n));
    return new LrSchedule(schedule, learningRate, total, (int) Math.round(warmupFraction * total));
  }

  public TrainingConfig withEpochs(int v) {
    return new TrainingConfig(v, batchSize, learningRate, schedule, warmupFraction, momentum,
        weightDecay, augmentFlip, augmentShift, augmentErase, labelSmoothing, mixupAlpha, seed, enormC, randAugment);
  }

  public TrainingConfig withBatchSize(int v) {
    return new TrainingConfig(epochs, v, learningRate, schedule, warmupFraction, momentum,
        weightDecay, augmentFlip, augmentShift, augmentErase, labelSmoothing, mixupAlpha, seed, enormC, randAugment);
  }

  public TrainingConfig withLearningRate(double v) {
    return new TrainingConfig(epochs, batchSize, v, schedule, warmupFraction, momentum,
        weightDecay, augmentFlip, augmentShift, augmentErase, labelSmoothing, mixupAlpha, seed, enormC, randAugment);
  }

  public TrainingConfig withSchedule(String v, double warmup) {
    return new TrainingConfig(epochs, batchSize, learningRate, v, warmup, momentum,
        weightDecay, augmentFlip, augmentShift, augmentErase, labelSmoothing, mixupAlpha, seed, enormC, randAugment);
  }

  public TrainingConfig withMomentum(double v) {
    return new TrainingConfig(epochs, batchSize, learningRate, schedule, warmupFraction, v,
        weightDecay, augmentFlip, augmentShift, augmentErase, labelSmoothing, mixupAlpha, seed, enormC, randAugment);
  }

  public TrainingConfig withWeightDecay(double v) {
    return new TrainingConfig(epochs, batchSize, learningRate, schedule, warmupFraction,
        momentum, v, augmentFlip, augmentShift, augmentErase, labelSmoothing, mixupAlpha, seed, enormC, randAugment);
  }

  public TrainingConfig withAugment(boolean flip, int shift) {
    return new TrainingConfig(epochs, batchSize, learningRate, schedule, warmupFraction,
        momentum, weightDecay, flip, shift, augmentErase, labelSmoothing, mixupAlpha, seed, enormC, randAugment);
  }

  public TrainingConfig withErase(double v) {
    return new TrainingConfig(epochs, batchSize, learningRate, schedule, warmupFraction,
        momentum, weightDecay, augmentFlip, augmentShift, v, labelSmoothing, mixupAlpha, seed, enormC, randAugment);
  }

  public TrainingConfig withLabelSmoothing(double v) {
    return new TrainingConfig(epochs, batchSize, learningRate, schedule, warmupFraction,
        momentum, weightDecay, augmentFlip, augmentShift, augmentErase, v, mixupAlpha, seed, enormC, randAugment);
  }

  public TrainingConfig withMixup(double alpha) {
    return new TrainingConfig(epochs, batchSize, learningRate, schedule, warmupFraction,
        momentum, weightDecay, augmentFlip, augmentShift, augmentErase, labelSmoothing, alpha, seed, enormC, randAugment);
  }

  public TrainingConfig withSeed(long v) {
    return new TrainingConfig(epochs, batchSize, learningRate, schedule, warmupFraction,
        momentum, weightDecay, augmentFlip, augmentShift, augmentErase, labelSmoothing, mixupAlpha, v, enormC, randAugment);
  }

  public TrainingConfig withEnormC(double v) {
    return new TrainingConfig(epochs, batchSize, learningRate, schedule, warmupFraction,
        momentum, weightDecay, augmentFlip, augmentShift, augmentErase, labelSmoothing, mixupAlpha,
        seed, v, randAugment);
  }
}
