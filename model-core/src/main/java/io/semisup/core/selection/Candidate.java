package io.semisup.core.selection;

import java.io.Serializable;
import java.util.Comparator;

/**
 * One unlabelled image proposed for one class, with the teacher's score for that class.
 *
 * <p>Selection must be reproducible across runs and partitionings, so candidates have one total
 * order, {@link #ORDER}: the tie on equal scores is broken by {@code imageId}, never by arrival
 * order.
 */
public record Candidate(int classId, String imageId, float score) implements Serializable {

  /** Best first: score descending, then imageId ascending. */
  public static final Comparator<Candidate> ORDER = new Order();

  public Candidate {
    if (classId < 0) {
      throw new IllegalArgumentException(
          "Cannot create candidate for class " + classId + ": class ids start at 0");
    }
    if (imageId == null) {
      throw new IllegalArgumentException("Cannot create candidate with null imageId");
    }
    if (Float.isNaN(score)) {
      throw new IllegalArgumentException(
          "Cannot create candidate " + imageId + " with NaN score: the model produced NaN."
              + " Check the model and its input normalization");
    }
  }

  /**
   * Same as {@code ORDER.compare(a, b)} on the fields, without allocating candidates: negative
   * when (scoreA, idA) comes before (scoreB, idB).
   */
  static int compare(float scoreA, String idA, float scoreB, String idB) {
    int c = Float.compare(scoreB, scoreA);
    return c != 0 ? c : idA.compareTo(idB);
  }

  /** Named and serializable so selectors holding it can be shipped between JVMs. */
  private static final class Order implements Comparator<Candidate>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public int compare(Candidate a, Candidate b) {
      return Candidate.compare(a.score, a.imageId, b.score, b.imageId);
    }

    private Object readResolve() {
      return ORDER;
    }
  }
}
