package io.semisup.jobs.config;

import java.util.Collection;

/**
 * "Did you mean" for a mistyped key: the declared key at the smallest edit distance, when it is
 * close enough to be a typo rather than a different word. Written here rather than taken from
 * commons-text, which reaches this module only through Spark's provided scope.
 */
final class KeySuggestions {

  private KeySuggestions() {}

  /** The nearest of {@code known} to {@code typed}, or null when none is within a typo's reach. */
  static String nearest(String typed, Collection<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String k : known) {
      int d = distance(typed, k);
      if (d < bestDistance) {
        best = k;
        bestDistance = d;
      }
    }
    // A third of the key's length, at least 2: select.kk -> select.k, but not rounds -> seed.
    int reach = Math.max(2, typed.length() / 3);
    return bestDistance <= reach ? best : null;
  }

  /** Levenshtein distance (insertions, deletions, substitutions), two rows of memory. */
  static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
      }
      int[] t = previous;
      previous = current;
      current = t;
    }
    return previous[b.length()];
  }
}
