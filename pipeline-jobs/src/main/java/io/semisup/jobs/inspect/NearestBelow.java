package io.semisup.jobs.inspect;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import scala.Tuple2;

/**
 * The best {@code n} rows per class of a candidate set, in the selection's order (score desc,
 * image_id asc), without sorting or shuffling the candidates: each partition keeps a bounded list
 * per class and only those lists (partitions x classes x n rows) are shuffled and merged. The
 * report and the export use it for the images just below each class's threshold, where the
 * candidates are every scored image's top-P classes (N x P rows).
 */
final class NearestBelow {

  private NearestBelow() {}

  /**
   * Rows (class, image_id, uri, score) -> the best {@code n} per class as (class, position,
   * image_id, uri, score), position 1 = highest score.
   */
  static List<Row> bestPerClass(Dataset<Row> candidates, int n) {
    if (n <= 0) {
      return List.of();
    }
    JavaPairRDD<Integer, Best> best =
        candidates.select("class", "image_id", "uri", "score").javaRDD()
            .mapToPair(r -> new Tuple2<>(r.getInt(0), new Entry(r.getFloat(3), r.getString(1), r.getString(2))))
            .aggregateByKey(new Best(n), Best::add, Best::merge);
    List<Row> out = new ArrayList<>();
    for (Tuple2<Integer, Best> t : best.collect()) {
      int position = 1;
      for (Entry e : t._2().items) {
        out.add(RowFactory.create(t._1(), position++, e.imageId(), e.uri(), e.score()));
      }
    }
    return out;
  }

  /** One candidate: its score, image id and uri. */
  record Entry(float score, String imageId, String uri) implements Serializable {}

  /** The selection's order: score desc, then image_id asc. */
  static final Comparator<Entry> ORDER =
      Comparator.comparing(Entry::score, Comparator.reverseOrder()).thenComparing(Entry::imageId);

  /** A sorted list of at most {@code n} entries. */
  static final class Best implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int n;
    private final ArrayList<Entry> items = new ArrayList<>();

    Best(int n) {
      this.n = n;
    }

    Best add(Entry e) {
      if (items.size() == n && ORDER.compare(e, items.get(n - 1)) >= 0) {
        return this;
      }
      int at = 0;
      while (at < items.size() && ORDER.compare(items.get(at), e) <= 0) {
        at++;
      }
      items.add(at, e);
      if (items.size() > n) {
        items.remove(n);
      }
      return this;
    }

    Best merge(Best other) {
      for (Entry e : other.items) {
        add(e);
      }
      return this;
    }
  }
}
