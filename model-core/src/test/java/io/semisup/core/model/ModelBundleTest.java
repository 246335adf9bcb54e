package io.semisup.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.io.ByteArrayInputStream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class ModelBundleTest {

  /** One conv + softmax output on 4x4 grey input, 3 classes. */
  static ComputationGraph tinyGraph(int classes) {
    ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
        .seed(7)
        .updater(new Adam(1e-2))
        .graphBuilder()
        .addInputs("in")
        .setInputTypes(InputType.convolutional(4, 4, 1))
        .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(2)
            .activation(Activation.RELU).build(), "in")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes)
            .activation(Activation.SOFTMAX).build(), "conv")
        .setOutputs("out")
        .build();
    ComputationGraph g = new ComputationGraph(conf);
    g.init();
    return g;
  }

  static ModelMetadata metadata() {
    return new ModelMetadata("tiny", "tiny-conv", List.of("a", "b", "c"),
        new io.semisup.core.image.InputSpec(4, 4, 1, new float[] {0.5f}, new float[] {0.5f}),
        7, null);
  }

  private static INDArray input() {
    float[] data = new float[5 * 16];
    java.util.Random rnd = new java.util.Random(3);
    for (int i = 0; i < data.length; i++) {
      data[i] = rnd.nextFloat();
    }
    return Nd4j.create(data, new long[] {5, 1, 4, 4}, 'c');
  }

  @Test
  void roundTripKeepsMetadataOutputsAndUpdaterState(@TempDir Path dir) {
    ComputationGraph g = tinyGraph(3);
    INDArray labels = Nd4j.zeros(5, 3);
    for (int i = 0; i < 5; i++) {
      labels.putScalar(i, i % 3, 1);
    }
    g.fit(new DataSet(input(), labels)); // gives Adam non-zero state
    ModelBundle bundle = new ModelBundle(g, metadata());
    INDArray expected = g.output(false, input())[0];
    INDArray updater = g.getUpdater().getStateViewArray().dup();
    assertThat(updater.amaxNumber().doubleValue()).isGreaterThan(0);

    Path file = dir.resolve("sub/model.zip");
    bundle.save(file);
    for (ModelBundle back : List.of(ModelBundle.load(file),
        ModelBundle.fromBytes(bundle.toBytes()))) {
      assertThat(back.metadata()).isEqualTo(bundle.metadata());
      // Exact: INDArray.equals would compare with a tolerance.
      assertThat(back.graph().output(false, input())[0].toFloatMatrix())
          .isDeepEqualTo(expected.toFloatMatrix());
      assertThat(back.graph().getUpdater().getStateViewArray().dup().data().asFloat())
          .containsExactly(updater.data().asFloat());
    }
  }

  @Test
  void isOneZipWithTwoEntries() throws Exception {
    byte[] bytes = new ModelBundle(tinyGraph(3), metadata()).toBytes();
    List<String> names = new ArrayList<>();
    try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(bytes))) {
      for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
        names.add(e.getName());
      }
    }
    assertThat(names).containsExactly("metadata.json", "model.bin");
  }

  @Test
  void clearErrorsForMissingOrForeignFiles(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("nope.zip");
    assertThatThrownBy(() -> ModelBundle.load(missing))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining(missing.toString())
        .hasMessageContaining("does not exist");
    Path text = Files.writeString(dir.resolve("notes.txt"), "hello");
    assertThatThrownBy(() -> ModelBundle.load(text))
        .hasMessageContaining(text.toString())
        .hasMessageContaining("not a model bundle");
    ByteArrayOutputStream onlyMeta = new ByteArrayOutputStream();
    try (var zip = new java.util.zip.ZipOutputStream(onlyMeta)) {
      zip.putNextEntry(new ZipEntry("metadata.json"));
      zip.write(metadata().toJson().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    assertThatThrownBy(() -> ModelBundle.fromBytes(onlyMeta.toByteArray()))
        .hasMessageContaining("model.bin is missing");
  }

  @Test
  void refusesMetadataThatDoesNotMatchTheGraph() {
    assertThatThrownBy(() -> new ModelBundle(tinyGraph(4), metadata()))
        .hasMessageContaining("4 outputs")
        .hasMessageContaining("3 classes");
  }
}
