package io.semisup.core.train;

import java.util.Locale;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Learning-rate schedule over iterations: one-cycle (linear warm-up then cosine to zero), plain
 * cosine, step (x0.1 at 50% and 75%) or constant.
 *
 * <p>Why a custom {@link ISchedule}: DL4J has no cosine schedule, and the schedule must live in
 * the updater configuration (not in a training loop) so that dl4j-spark workers, which rebuild
 * the network from its JSON configuration, follow exactly the same curve. Hence the Jackson
 * (ND4J-shaded) annotations: the configuration round-trips through JSON.
 */
public final class LrSchedule implements ISchedule {

  private static final long serialVersionUID = 1L;

  private final String type;
  private final double peak;
  private final int totalIterations;
  private final int warmupIterations;
  private final int offset;

  /** As {@link #LrSchedule(String, double, int, int, int)} with no offset. */
  public LrSchedule(String type, double peak, int totalIterations, int warmupIterations) {
    this(type, peak, totalIterations, warmupIterations, 0);
  }

  /**
   * @param type "onecycle", "cosine", "step" or "constant"
   * @param peak highest learning rate
   * @param totalIterations minibatch updates in the whole run
   * @param warmupIterations linear warm-up length from peak/10 (only "onecycle")
   * @param offset iterations already done: the curve is read at {@code offset + iteration}
   */
  public LrSchedule(
      @JsonProperty("type") String type,
      @JsonProperty("peak") double peak,
      @JsonProperty("totalIterations") int totalIterations,
      @JsonProperty("warmupIterations") int warmupIterations,
      @JsonProperty("offset") int offset) {
    String t = type.toLowerCase(Locale.ROOT);
    if (!TrainingConfig.SCHEDULES.contains(t)) {
      throw new IllegalArgumentException(
          "Cannot use LR schedule '" + type + "': valid are " + TrainingConfig.SCHEDULES);
    }
    if (totalIterations <= 0) {
      throw new IllegalArgumentException(
          "Cannot schedule " + totalIterations + " iterations: must be > 0");
    }
    this.type = t;
    this.peak = peak;
    this.totalIterations = totalIterations;
    this.warmupIterations = Math.max(0, Math.min(warmupIterations, totalIterations - 1));
    this.offset = Math.max(0, offset);
  }

  /**
   * The same curve, started {@code done} iterations in. dl4j-spark workers rebuild each round's
   * network from {@code ComputationGraphConfiguration.clone()}, which drops the iteration count
   * (DL4J 1.0.0-M2.1), so a distributed trainer carries progress here instead.
   */
  public LrSchedule withOffset(int done) {
    return new LrSchedule(type, peak, totalIterations, warmupIterations, done);
  }

  @Override
  public double valueAt(int iteration, int epoch) {
    int it = Math.max(0, Math.min(offset + iteration, totalIterations - 1));
    switch (type) {
      case "constant":
        return peak;
      case "step":
        if (it >= 0.75 * totalIterations) {
          return peak * 0.01;
        }
        return it >= 0.5 * totalIterations ? peak * 0.1 : peak;
      case "cosine":
        return cosine(peak, it, totalIterations);
      default: // onecycle
        if (it < warmupIterations) {
          double start = peak / 10;
          return start + (peak - start) * (it + 1) / (double) warmupIterations;
        }
        return cosine(peak, it - warmupIterations, totalIterations - warmupIterations);
    }
  }

  private static double cosine(double peak, int it, int total) {
    return 0.5 * peak * (1 + Math.cos(Math.PI * it / (double) total));
  }

  @Override
  public ISchedule clone() {
    return new LrSchedule(type, peak, totalIterations, warmupIterations, offset);
  }

  @JsonProperty("offset")
  public int getOffset() {
    return offset;
  }

  @JsonProperty("type")
  public String getType() {
    return type;
  }

  @JsonProperty("peak")
  public double getPeak() {
    return peak;
  }

  @JsonProperty("totalIterations")
  public int getTotalIterations() {
    return totalIterations;
  }

  @JsonProperty("warmupIterations")
  public int getWarmupIterations() {
    return warmupIterations;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LrSchedule s
        && s.type.equals(type)
        && s.peak == peak
        && s.totalIterations == totalIterations
        && s.warmupIterations == warmupIterations
        && s.offset == offset;
  }

  @Override
  public int hashCode() {
    return type.hashCode() * 31 + Double.hashCode(peak) * 17 + totalIterations * 7
        + warmupIterations + 3 * offset;
  }

  @Override
  public String toString() {
    return "LrSchedule(" + type + ", peak=" + peak + ", iterations=" + totalIterations
        + ", warmup=" + warmupIterations + (offset > 0 ? ", offset=" + offset : "") + ")";
  }
}
