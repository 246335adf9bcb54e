package io.semisup.core.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.TrainingConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * One session serves an executor's tasks at the same time: concurrent calls must each get their
 * own input buffer and the answers of calls made one at a time.
 */
class OnnxScorerTest {

  private static final InputSpec SPEC =
      new InputSpec(32, 32, 3, new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.25f, 0.25f, 0.25f});

  private static byte[] model() {
    return new OnnxExporter(SPEC).toBytes(Architectures.build("resnet-tiny", SPEC, 5,
        TrainingConfig.defaults().withSeed(3)));
  }

  /** Batches of different sizes, so a call that read another's buffer would be caught. */
  private static List<float[][]> batches() {
    Random r = new Random(11);
    List<float[][]> out = new ArrayList<>();
    for (int size : new int[] {6, 2, 6, 1, 4, 6}) {
      float[][] b = new float[size][SPEC.size()];
      for (float[] row : b) {
        for (int i = 0; i < row.length; i++) {
          row[i] = (float) r.nextGaussian();
        }
      }
      out.add(b);
    }
    return out;
  }

  @Test
  void concurrentCallsGiveTheProbabilitiesOfCallsOneAtATime() throws Exception {
    List<float[][]> batches = batches();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (OnnxScorer scorer = new OnnxScorer(model(), SPEC, 5,
        OnnxScorer.Options.defaults().withIntraOpThreads(1))) {
      assertThat(scorer.concurrent()).isTrue();
      List<float[][]> alone = new ArrayList<>();
      for (float[][] b : batches) {
        alone.add(scorer.probabilities(b));
      }
      List<Callable<float[][]>> calls = new ArrayList<>();
      for (int round = 0; round < 20; round++) {
        for (float[][] b : batches) {
          calls.add(() -> scorer.probabilities(b));
        }
      }
      List<Future<float[][]>> results = pool.invokeAll(calls);
      for (int i = 0; i < results.size(); i++) {
        assertThat(results.get(i).get()).as("call %d", i)
            .isDeepEqualTo(alone.get(i % batches.size()));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aClosedScorerRefusesCalls() {
    OnnxScorer scorer = new OnnxScorer(model(), SPEC, 5);
    scorer.close();
    scorer.close();
    assertThatThrownBy(() -> scorer.probabilities(batches().get(0)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
  }
}
