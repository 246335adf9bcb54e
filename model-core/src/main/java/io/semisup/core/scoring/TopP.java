package io.semisup.core.scoring;

import java.util.Arrays;

/**
 * The few classes that matter for one image: the method lets each image be selected for at most
 * P classes, so only its P best (class, probability) pairs need to leave the scorer, instead of a
 * full probability vector per image.
 *
 * <p>Highest probability first; equal probabilities by lower class id first, so results do not
 * depend on the engine. Accessors {@link #classes()} and {@link #probs()} return copies; use
 * {@link #classAt}/{@link #probAt} in loops.
 */
public record TopP(int[] classes, float[] probs) {

  public TopP {
    if (classes.length != probs.length) {
      throw new IllegalArgumentException(
          "Cannot create TopP from " + classes.length + " classes and " + probs.length
              + " probabilities: need one probability per class");
    }
    classes = classes.clone();
    probs = probs.clone();
  }

  /** Top-p of one probability vector; p is clipped to its length. */
  public static TopP of(float[] probs, int p) {
    if (p < 1) {
      throw new IllegalArgumentException("Cannot take top-" + p + " classes: p must be >= 1");
    }
    int n = Math.min(p, probs.length);
    int[] cls = new int[n];
    float[] val = new float[n];
    int size = 0;
    for (int c = 0; c < probs.length; c++) {
      float v = probs[c];
      if (Float.isNaN(v)) {
        throw new IllegalArgumentException(
            "Cannot rank class " + c + ": its probability is NaN. Check the model and its input"
                + " normalization");
      }
      // Classes arrive in increasing id, so on equal values the earlier one stays ahead.
      if (size == n && !(v > val[n - 1])) {
        continue;
      }
      int i = size == n ? n - 1 : size++;
      while (i > 0 && v > val[i - 1]) {
        cls[i] = cls[i - 1];
        val[i] = val[i - 1];
        i--;
      }
      cls[i] = c;
      val[i] = v;
    }
    return new TopP(cls, val);
  }

  public int size() {
    return classes.length;
  }

  public int classAt(int rank) {
    return classes[rank];
  }

  public float probAt(int rank) {
    return probs[rank];
  }

  @Override
  public int[] classes() {
    return classes.clone();
  }

  @Override
  public float[] probs() {
    return probs.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TopP t && Arrays.equals(t.classes, classes) && Arrays.equals(t.probs, probs);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(classes) + Arrays.hashCode(probs);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("TopP[");
    for (int i = 0; i < classes.length; i++) {
      sb.append(i == 0 ? "" : ", ").append(classes[i]).append('=').append(probs[i]);
    }
    return sb.append(']').toString();
  }
}
