package io.semisup.jobs.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.model.Architectures;
import io.semisup.core.dl4j.Dl4jPatches;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.bench.BenchTrain;
import io.semisup.core.testing.Prerequisites;
import java.io.IOException;
import java.util.Arrays;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** dl4j-spark training on local[2]: the workers' networks get the fast batch-norm statistics. */
class SparkTrainerTest extends SparkTestBase {

  @Test
  void workersTrainWithFastBatchNormStatistics() throws IOException {
    Prerequisites.fashionMnist();
    Dl4jPatches.Status patches = Dl4jPatches.install(Dl4jPatches.Options.fromSystemProperties());
    assumeTrue(patches.on(Dl4jPatches.Patch.NATIVE_HELPERS) && patches.on(Dl4jPatches.Patch.FAST_BATCH_NORM),
        "DL4J helpers or fast batch norm switched off by the user");
    FashionMnist train = FashionMnist.load(FashionMnist.DEFAULT_DIR, true);
    int[] idx = new int[256];
    Arrays.setAll(idx, i -> i);
    Dataset<Row> data = BenchTrain.pngRows(spark, train, idx); // (image_id, PNG bytes, label)
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(1).withBatchSize(32).withLearningRate(0.05);
    ComputationGraph graph = Architectures.build("resnet-small", FashionMnist.INPUT_SPEC, 10, cfg);
    INDArray before = graph.params().dup();

    long installedBefore = TrainingKernelsHook.graphsInstalled();
    SparkTrainer trainer = new SparkTrainer(JavaSparkContext.fromSparkContext(spark.sparkContext()), 2, 2);
    ComputationGraph trained = trainer.fit(graph, data, cfg, FashionMnist.INPUT_SPEC, 10, "test");

    // local[2]: executors are this JVM, so their hook's count is visible here.
    assertThat(TrainingKernelsHook.graphsInstalled() - installedBefore).isGreaterThanOrEqualTo(2);
    assertThat(trained.params().sub(before).norm2Number().doubleValue()).isPositive();
  }
}
