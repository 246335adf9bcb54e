package io.semisup.jobs.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.NativeHelpers;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.SparkTestBase;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** dl4j-spark training on local[2]: the workers' networks get the fast batch-norm statistics. */
class SparkTrainerTest extends SparkTestBase {

  @Test
  void workersTrainWithFastBatchNormStatistics() throws IOException {
    assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "dataset-fashion-mnist not installed");
    NativeHelpers.enable();
    assumeTrue(NativeHelpers.enabled(), "DL4J helpers disabled by the user");
    FashionMnist train = FashionMnist.load(FashionMnist.DEFAULT_DIR, true);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 256; i++) {
      BufferedImage img = new BufferedImage(FashionMnist.SIDE, FashionMnist.SIDE, BufferedImage.TYPE_BYTE_GRAY);
      img.getRaster().setDataElements(0, 0, FashionMnist.SIDE, FashionMnist.SIDE, train.pixels(i));
      ByteArrayOutputStream png = new ByteArrayOutputStream();
      ImageIO.write(img, "png", png);
      rows.add(RowFactory.create(String.format("img%04d", i), png.toByteArray(), train.label(i)));
    }
    StructType schema = new StructType()
        .add("image_id", DataTypes.StringType, false)
        .add("bytes", DataTypes.BinaryType, false)
        .add("label", DataTypes.IntegerType, false);
    Dataset<Row> data = spark.createDataFrame(rows, schema);
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(1).withBatchSize(32).withLearningRate(0.05);
    ComputationGraph graph = Architectures.build("resnet-small", FashionMnist.INPUT_SPEC, 10, cfg);
    INDArray before = graph.params().dup();

    long installedBefore = FastBatchNormHook.graphsInstalled();
    SparkTrainer trainer = new SparkTrainer(JavaSparkContext.fromSparkContext(spark.sparkContext()), 2, 2);
    ComputationGraph trained = trainer.fit(graph, data, cfg, FashionMnist.INPUT_SPEC, 10, "test");

    // local[2]: executors are this JVM, so their hook's count is visible here.
    assertThat(FastBatchNormHook.graphsInstalled() - installedBefore).isGreaterThanOrEqualTo(2);
    assertThat(trained.params().sub(before).norm2Number().doubleValue()).isPositive();
  }
}
