package io.semisup.jobs.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.image.InputSpec;
import io.semisup.core.image.Preprocessor;
import io.semisup.core.model.Architectures;
import io.semisup.core.scoring.OnnxExporter;
import io.semisup.core.scoring.OnnxScorer;
import io.semisup.core.scoring.TopP;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.bench.SyntheticPhotos;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

/**
 * The decode-ahead pipeline changes when images are prepared, never what comes out: the same
 * rows, in input order, with rejects in place, as decoding in line and as the engine alone.
 */
class ScorePartitionTest extends SparkTestBase {

  private static final InputSpec SPEC =
      new InputSpec(32, 32, 3, new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.25f, 0.25f, 0.25f});

  private static List<Row> run(ScorePartition p, List<Row> input) {
    List<Row> out = new ArrayList<>();
    Iterator<Row> it = p.call(input.iterator());
    it.forEachRemaining(out::add);
    return out;
  }

  /** A row with its arrays' contents spelled out (Row.equals compares arrays by reference). */
  private static String text(Row r) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < r.size(); i++) {
      Object v = r.get(i);
      sb.append(v instanceof int[] a ? Arrays.toString(a)
          : v instanceof float[] f ? Arrays.toString(f) : String.valueOf(v)).append('|');
    }
    return sb.toString();
  }

  @Test
  void prefetchEqualsInLineAndTheEngineInInputOrder() throws Exception {
    var g = Architectures.build("resnet-tiny", SPEC, 5, TrainingConfig.defaults().withSeed(1));
    byte[] onnx = new OnnxExporter(SPEC).toBytes(g);
    ScoringModel model = ScoringModel.onnx("t", onnx, SPEC, 5, ScoringEngine.turns(false, 1));
    Broadcast<ScoringModel> b = spark.sparkContext().broadcast(model,
        scala.reflect.ClassTag$.MODULE$.apply(ScoringModel.class));
    SyntheticPhotos photos = new SyntheticPhotos(9, 64, 48, 0.9f);
    List<Row> input = new ArrayList<>();
    for (int i = 0; i < 23; i++) {
      byte[] jpeg = i == 7 ? Arrays.copyOf(photos.jpeg(i), 100) : photos.jpeg(i);
      input.add(RowFactory.create("id" + i, "u" + i, jpeg, i % 3 == 0 ? null : i % 5));
    }

    List<Row> inline = run(new ScorePartition(b, SPEC,
        new ScorePartition.Settings(4, 2, 0, 1, 60, false), "t"), input);
    List<Row> prefetched = run(new ScorePartition(b, SPEC,
        new ScorePartition.Settings(4, 2, 3, 2, 60, false), "t"), input);
    assertThat(prefetched).extracting(ScorePartitionTest::text)
        .containsExactlyElementsOf(inline.stream().map(ScorePartitionTest::text).toList());
    assertThat(prefetched).extracting(r -> r.getString(0))
        .containsExactlyElementsOf(input.stream().map(r -> r.getString(0)).toList());
    Row cut = prefetched.get(7);
    assertThat(cut.isNullAt(3)).isTrue();
    assertThat(cut.getString(5)).isEqualTo("TRUNCATED");
    assertThat(prefetched.get(3).isNullAt(2)).isTrue();
    assertThat(prefetched.get(4).getInt(2)).isEqualTo(4);

    // The engine alone on the same tensors gives the same top-P.
    Preprocessor pre = new Preprocessor(SPEC);
    try (OnnxScorer engine = new OnnxScorer(onnx, SPEC, 5)) {
      float[] x = pre.toChw(ImageIO.read(new ByteArrayInputStream((byte[]) input.get(5).get(2))));
      TopP t = TopP.of(engine.probabilities(new float[][] {x})[0], 2);
      Row r = prefetched.get(5);
      assertThat((int[]) r.get(3)).containsExactly(t.classAt(0), t.classAt(1));
      assertThat(((float[]) r.get(4))[0]).isEqualTo(t.probAt(0));
    }
  }

  @Test
  void tasksRunningConcurrentlyGetTheRowsOfTasksTakingTurns() throws Exception {
    var g = Architectures.build("resnet-tiny", SPEC, 5, TrainingConfig.defaults().withSeed(4));
    byte[] onnx = new OnnxExporter(SPEC).toBytes(g);
    ScoringModel turns = ScoringModel.onnx("turns", onnx, SPEC, 5, ScoringEngine.turns(false, 1));
    ScoringModel together = ScoringModel.onnx("together", onnx, SPEC, 5,
        new ScoringEngine(false, 1, true));
    assertThat(together.runsConcurrently(ExecutorModels.scorer(together))).isTrue();
    assertThat(turns.runsConcurrently(ExecutorModels.scorer(turns))).isFalse();
    SyntheticPhotos photos = new SyntheticPhotos(5, 64, 48, 0.9f);
    List<List<Row>> partitions = new ArrayList<>();
    for (int p = 0; p < 3; p++) {
      List<Row> rows = new ArrayList<>();
      for (int i = 0; i < 13; i++) {
        rows.add(RowFactory.create("p" + p + "i" + i, "u", photos.jpeg(13L * p + i), null));
      }
      partitions.add(rows);
    }
    ScorePartition.Settings settings = new ScorePartition.Settings(4, 3, 1, 2, 60, false);
    ScorePartition inTurns = new ScorePartition(spark.sparkContext().broadcast(turns,
        scala.reflect.ClassTag$.MODULE$.apply(ScoringModel.class)), SPEC, settings, "t");
    ScorePartition concurrent = new ScorePartition(spark.sparkContext().broadcast(together,
        scala.reflect.ClassTag$.MODULE$.apply(ScoringModel.class)), SPEC, settings, "c");
    var pool = java.util.concurrent.Executors.newFixedThreadPool(partitions.size());
    try {
      List<java.util.concurrent.Future<List<Row>>> running = new ArrayList<>();
      for (List<Row> rows : partitions) {
        running.add(pool.submit(() -> run(concurrent, rows)));
      }
      for (int p = 0; p < partitions.size(); p++) {
        assertThat(running.get(p).get()).extracting(ScorePartitionTest::text)
            .containsExactlyElementsOf(run(inTurns, partitions.get(p)).stream()
                .map(ScorePartitionTest::text).toList());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void faultHookFailsAfterTheFirstBatch() {
    var g = Architectures.build("resnet-tiny", SPEC, 5, TrainingConfig.defaults());
    ScoringModel model = ScoringModel.onnx("f", new OnnxExporter(SPEC).toBytes(g), SPEC, 5,
        ScoringEngine.turns(false, 1));
    Broadcast<ScoringModel> b = spark.sparkContext().broadcast(model,
        scala.reflect.ClassTag$.MODULE$.apply(ScoringModel.class));
    SyntheticPhotos photos = new SyntheticPhotos(2, 40, 30, 0.9f);
    List<Row> input = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      input.add(RowFactory.create("id" + i, "u" + i, photos.jpeg(i), null));
    }
    Iterator<Row> it = new ScorePartition(b, SPEC,
        new ScorePartition.Settings(4, 1, 2, 2, 60, true), "t").call(input.iterator());
    for (int i = 0; i < 4; i++) {
      assertThat(it.next().getString(0)).isEqualTo("id" + i);
    }
    assertThatThrownBy(it::hasNext).hasMessageContaining("Fault injected by score.fail-shard");
  }

  @Test
  void settingsAreChecked() {
    assertThatThrownBy(() -> new ScorePartition.Settings(0, 1, 0, 1, 1, false))
        .hasMessageContaining("batch-size 0");
    assertThatThrownBy(() -> new ScorePartition.Settings(8, 1, -1, 1, 1, false))
        .hasMessageContaining("decode-threads >= 0");
  }
}
