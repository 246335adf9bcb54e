package io.semisup.core.metrics;

import io.semisup.core.scoring.TopP;
import java.io.Serializable;

/**
 * Top-1 and top-5 accuracy, the numbers the paper reports for teacher and student. Mergeable, so
 * partitions of a test set can be evaluated in parallel and summed on the driver. Not
 * thread-safe.
 */
public final class TopKAccuracy implements Serializable {
  private static final long serialVersionUID = 1L;

  private long count;
  private long top1;
  private long top5;

  /**
   * Counts one image from its full probability vector. Ties rank the lower class id first, as
   * in {@link TopP#of}.
   */
  public void add(float[] probs, int label) {
    if (label < 0 || label >= probs.length) {
      throw new IllegalArgumentException(
          "Cannot count label " + label + ": the probabilities cover classes 0.."
              + (probs.length - 1));
    }
    float mine = probs[label];
    if (Float.isNaN(mine)) {
      throw new IllegalArgumentException(
          "Cannot count label " + label + ": its probability is NaN. Check the model");
    }
    int rank = 0;
    for (int c = 0; c < probs.length && rank < 5; c++) {
      if (probs[c] > mine || (probs[c] == mine && c < label)) {
        rank++;
      }
    }
    record(rank == 0, rank < 5);
  }

  /**
   * Counts one image from its top-p classes: top-5 looks at the first min(5, p) only, so use
   * p >= 5 for a meaningful top-5.
   */
  public void add(TopP topP, int label) {
    int n = Math.min(5, topP.size());
    boolean in5 = false;
    for (int i = 0; i < n; i++) {
      if (topP.classAt(i) == label) {
        in5 = true;
        break;
      }
    }
    record(topP.size() > 0 && topP.classAt(0) == label, in5);
  }

  private void record(boolean isTop1, boolean isTop5) {
    count++;
    top1 += isTop1 ? 1 : 0;
    top5 += isTop5 ? 1 : 0;
  }

  /** Fraction of images whose label is the best class; NaN before any image. */
  public double top1() {
    return count == 0 ? Double.NaN : (double) top1 / count;
  }

  /** Fraction of images whose label is among the 5 best classes; NaN before any image. */
  public double top5() {
    return count == 0 ? Double.NaN : (double) top5 / count;
  }

  public long count() {
    return count;
  }

  /** Adds another accumulator's counts into this one (in place) and returns this. */
  public TopKAccuracy merge(TopKAccuracy o) {
    count += o.count;
    top1 += o.top1;
    top5 += o.top5;
    return this;
  }

  @Override
  public String toString() {
    return String.format("top1=%.4f top5=%.4f n=%d", top1(), top5(), count);
  }
}
