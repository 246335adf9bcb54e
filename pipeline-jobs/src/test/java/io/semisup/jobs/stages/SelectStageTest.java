package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.spark.TopKPerClass;
import io.semisup.jobs.tables.Tables;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two-pass selection against a brute-force sort of all candidates, ties included. */
class SelectStageTest extends SparkTestBase {

  @TempDir Path root;

  /** Synthetic scores: skewed class popularity, scores from a coarse grid so ties abound. */
  private Dataset<Row> scores(int images, int classes, int p, long seed) {
    Random rnd = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < images; i++) {
      List<Integer> cls = new ArrayList<>();
      while (cls.size() < p) {
        // Class c drawn with weight ~ 1/(c+1): a few popular, many rare.
        int c = (int) Math.min(classes - 1, Math.floor(Math.exp(rnd.nextDouble() * Math.log(classes + 1)) - 1));
        if (!cls.contains(c)) {
          cls.add(c);
        }
      }
      List<Float> probs = new ArrayList<>();
      float left = 1f;
      for (int j = 0; j < p; j++) {
        float v = j == 0 && rnd.nextInt(10) == 0 ? 1.0f : Math.round(rnd.nextFloat() * left * 20) / 20f;
        probs.add(v);
        left = Math.max(0, left - v);
      }
      probs.sort(Comparator.reverseOrder());
      rows.add(RowFactory.create(String.format("img%05d", i), "file:/u/" + i + ".png", cls, probs, "t"));
    }
    return spark.createDataFrame(rows, Tables.SCORES.schema());
  }

  private static List<String> bruteForce(List<Row> scores, int numClasses, int k, int p) {
    List<String> out = new ArrayList<>();
    for (int c = 0; c < numClasses; c++) {
      List<Object[]> cand = new ArrayList<>();
      for (Row r : scores) {
        List<Integer> cls = r.getList(2);
        List<Float> probs = r.getList(3);
        for (int j = 0; j < Math.min(p, cls.size()); j++) {
          if (cls.get(j) == c) {
            cand.add(new Object[] {r.getString(0), probs.get(j)});
          }
        }
      }
      cand.sort(Comparator.<Object[], Float>comparing(o -> (Float) o[1]).reversed().thenComparing(o -> (String) o[0]));
      for (int i = 0; i < Math.min(k, cand.size()); i++) {
        out.add(c + "/" + (i + 1) + "/" + cand.get(i)[0] + "/" + cand.get(i)[1]);
      }
    }
    return out;
  }

  private static List<String> classNames(int numClasses) {
    List<String> names = new ArrayList<>();
    for (int c = 0; c < numClasses; c++) {
      names.add("c" + c);
    }
    return names;
  }

  @Test
  void twoPassSelectionEqualsFullSort() {
    int numClasses = 20;
    List<String> names = classNames(numClasses);
    Dataset<Row> scores = scores(3000, numClasses, 3, 7).repartition(5);
    List<Row> all = scores.collectAsList();
    RunContext ctx = context(root, "sel");
    for (int[] kp : new int[][] {{25, 1}, {25, 3}, {400, 2}, {1, 1}}) {
      int k = kp[0];
      int p = kp[1];
      SelectStage.Result r = SelectStage.select(ctx, scores, names, k, p, 64);
      List<String> got = new ArrayList<>();
      for (Row row : r.pseudoLabels().orderBy("class", "rank").collectAsList()) {
        got.add(row.getInt(0) + "/" + row.getInt(2) + "/" + row.getString(3) + "/" + row.getFloat(4));
      }
      assertThat(got).as("k=%d p=%d", k, p).isEqualTo(bruteForce(all, numClasses, k, p));
      // Classes short of K are reported, with their candidate counts.
      List<Row> counts = r.classCounts().orderBy("class").collectAsList();
      long selected = counts.stream().mapToLong(x -> x.getLong(3)).sum();
      assertThat(selected).isEqualTo(got.size());
      assertThat(r.candidates()).isEqualTo(3000L * p);
    }
  }

  @Test
  void manyPartitionsAreMergedInATreeWithTheSameResult() {
    // Past 64 partitions pass 1's histograms are tree-reduced on the executors.
    int numClasses = 20;
    List<String> names = classNames(numClasses);
    Dataset<Row> scores = scores(3000, numClasses, 3, 13).repartition(100);
    assertThat(TopKPerClass.countCandidates(scores, numClasses, 64, 2).images()).isEqualTo(3000);
    SelectStage.Result r = SelectStage.select(context(root, "tree"), scores, names, 30, 2, 64);
    List<String> got = new ArrayList<>();
    for (Row row : r.pseudoLabels().orderBy("class", "rank").collectAsList()) {
      got.add(row.getInt(0) + "/" + row.getInt(2) + "/" + row.getString(3) + "/" + row.getFloat(4));
    }
    assertThat(got).isEqualTo(bruteForce(scores.collectAsList(), numClasses, 30, 2));
  }

  @Test
  void eachImageLandsInAtMostPClasses() {
    List<String> names = Arrays.asList("a", "b", "c", "d", "e");
    Dataset<Row> scores = scores(500, 5, 4, 3);
    SelectStage.Result r = SelectStage.select(context(root, "cap"), scores, names, 1000, 2, 16);
    long maxPerImage = r.pseudoLabels().groupBy("image_id").count().agg(org.apache.spark.sql.functions.max("count")).first().getLong(0);
    assertThat(maxPerImage).isEqualTo(2);
  }
  @Test
  void globalThresholdKeepsTheBestCandidatesWhateverTheirClass() {
    int numClasses = 20;
    List<String> names = classNames(numClasses);
    Dataset<Row> scores = scores(3000, numClasses, 3, 11).repartition(4);
    List<Object[]> cand = new ArrayList<>();
    for (Row r : scores.collectAsList()) {
      List<Integer> cls = r.getList(2);
      List<Float> probs = r.getList(3);
      for (int j = 0; j < 2; j++) {
        cand.add(new Object[] {r.getString(0), probs.get(j), cls.get(j)});
      }
    }
    cand.sort(Comparator.<Object[], Float>comparing(o -> (Float) o[1]).reversed()
        .thenComparing(o -> (String) o[0]).thenComparing(o -> (Integer) o[2]));
    RunContext ctx = context(root, "global");

    // Budget mode: exactly the 500 best (image, class) pairs of all classes, ties by image id.
    SelectStage.Result r = SelectStage.selectGlobal(ctx, scores, names, 500, 0, 2, 64);
    List<String> got = new ArrayList<>();
    for (Row row : r.pseudoLabels().collectAsList()) {
      got.add(row.getInt(0) + "/" + row.getString(3));
    }
    List<String> expected = new ArrayList<>();
    for (Object[] o : cand.subList(0, 500)) {
      expected.add(o[2] + "/" + o[0]);
    }
    assertThat(got).containsExactlyInAnyOrderElementsOf(expected);
    // Popular classes take more than the balanced share, and the counts table says how many.
    List<Row> counts = r.classCounts().orderBy("class").collectAsList();
    assertThat(counts.stream().mapToLong(x -> x.getLong(3)).sum()).isEqualTo(500);
    assertThat(counts.stream().mapToLong(x -> x.getLong(3)).max().getAsLong()).isGreaterThan(500 / numClasses);
    // Ranks run 1..n within each class, by score.
    for (Row c : counts) {
      long n = c.getLong(3);
      if (n > 0) {
        Row last = r.pseudoLabels().filter("class = " + c.getInt(0)).orderBy(
            org.apache.spark.sql.functions.col("rank").desc()).first();
        assertThat((long) last.getInt(2)).isEqualTo(n);
      }
    }

    // Fixed threshold: every candidate of the first P classes at or above it.
    SelectStage.Result fixed = SelectStage.selectGlobal(ctx, scores, names, 500, 0.5, 2, 64);
    long expectedAbove = cand.stream().filter(o -> (Float) o[1] >= 0.5f).count();
    assertThat(fixed.pseudoLabels().count()).isEqualTo(expectedAbove).isPositive();
  }
}
