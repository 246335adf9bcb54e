package io.semisup.jobs.bench;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.scoring.Int8Quantizer;
import io.semisup.core.scoring.OnnxExporter;
import io.semisup.core.scoring.OnnxScorer;
import io.semisup.core.scoring.Scorer;
import io.semisup.core.scoring.TopP;
import io.semisup.core.selection.Candidate;
import io.semisup.core.selection.TopKSelector;
import io.semisup.core.train.TrainingConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * INT8 against FP32 on the same images: how often the quantized teacher picks the same top-1
 * class, and how much of the pseudo-label selection (top-K images per class over each image's
 * first P classes, {@link TopKSelector}, the select stage's rule) stays the same; and, for the
 * demo's teacher (resnet-small on 28x28 Fashion-MNIST, trained here for a few hundred steps),
 * engine images/s of both precisions, timed in alternation on the shared machine.
 */
final class Int8Meter {

  /** Top-1 agreement and the share of FP32's selected (class, image) pairs INT8 also selects. */
  record Agreement(double top1, double selectionOverlap, int k, int selected) {}

  /** The demo teacher's figures. */
  record Small(double fp32ImgS, double int8ImgS, Agreement agreement, int poolImages) {}

  private Int8Meter() {}

  static Agreement agreement(Scorer fp32, Scorer int8, float[][] pool, int batch, int k, int p) {
    int classes = fp32.numClasses();
    TopKSelector a = new TopKSelector(classes, k);
    TopKSelector b = new TopKSelector(classes, k);
    int same = 0;
    for (int from = 0; from < pool.length; from += batch) {
      float[][] x = Arrays.copyOfRange(pool, from, Math.min(from + batch, pool.length));
      float[][] pa = fp32.probabilities(x);
      float[][] pb = int8.probabilities(x);
      for (int i = 0; i < x.length; i++) {
        String id = String.format("%08d", from + i);
        TopP ta = TopP.of(pa[i], p);
        TopP tb = TopP.of(pb[i], p);
        same += ta.classAt(0) == tb.classAt(0) ? 1 : 0;
        for (int j = 0; j < p; j++) {
          a.offer(ta.classAt(j), id, ta.probAt(j));
          b.offer(tb.classAt(j), id, tb.probAt(j));
        }
      }
    }
    Set<String> inB = new HashSet<>();
    for (Candidate c : b.all()) {
      inB.add(c.classId() + "/" + c.imageId());
    }
    int kept = 0;
    for (Candidate c : a.all()) {
      kept += inB.contains(c.classId() + "/" + c.imageId()) ? 1 : 0;
    }
    int selected = a.all().size();
    return new Agreement(same / (double) pool.length, selected == 0 ? 1 : kept / (double) selected,
        k, selected);
  }

  /**
   * resnet-small trained {@code steps} SGD steps of 32 Fashion-MNIST training images, quantized on
   * 256 other training images; timed on {@code pool} test images (2 concurrent single-threaded
   * runs, the CPU default; one untimed pass each, then {@code rounds} alternations of FP32 and
   * INT8), and compared on them with K = pool / (2 x classes), P = 1.
   */
  static Small fashionMnist(Path dir, int steps, int pool, int batch, int rounds, long seed,
      BenchPass pass) throws Exception {
    InputSpec spec = FashionMnist.INPUT_SPEC;
    FashionMnist train = FashionMnist.load(dir, true);
    FashionMnist test = FashionMnist.load(dir, false);
    ComputationGraph g = Architectures.build("resnet-small", spec, 10,
        TrainingConfig.defaults().withSeed(seed));
    int b = 32;
    for (int s = 0; s < steps; s++) {
      int[] idx = range((s * b) % 40_000, b);
      float[][] x = train.chw(idx, spec);
      int[] y = train.labels(idx);
      float[] flat = new float[b * spec.size()];
      float[] oneHot = new float[b * 10];
      for (int i = 0; i < b; i++) {
        System.arraycopy(x[i], 0, flat, i * spec.size(), spec.size());
        oneHot[i * 10 + y[i]] = 1f;
      }
      g.fit(new DataSet(Nd4j.create(flat, new long[] {b, 1, 28, 28}),
          Nd4j.create(oneHot, new long[] {b, 10})));
    }
    byte[] fp32 = new OnnxExporter(spec).toBytes(g);
    byte[] int8 = Int8Quantizer.defaults().quantize(fp32, train.chw(range(50_000, 256), spec), spec);
    float[][] images = test.chw(range(0, pool), spec);
    OnnxScorer.Options one = OnnxScorer.Options.defaults().withIntraOpThreads(1);
    try (OnnxScorer f = new OnnxScorer(fp32, spec, 10, one);
        OnnxScorer q = new OnnxScorer(int8, spec, 10, one)) {
      Agreement agreement = agreement(f, q, images, batch, Math.max(1, pool / 20), 1);
      double[] sum = new double[2];
      pass.run(f, images, 2);
      pass.run(q, images, 2);
      for (int r = 0; r < rounds; r++) {
        sum[0] += pass.run(f, images, 2);
        sum[1] += pass.run(q, images, 2);
      }
      return new Small(sum[0] / rounds, sum[1] / rounds, agreement, pool);
    }
  }

  /** One timed engine pass: images/s of {@code engine} over {@code x} from {@code callers} threads. */
  interface BenchPass {
    double run(OnnxScorer engine, float[][] x, int callers) throws Exception;
  }

  private static int[] range(int from, int n) {
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) {
      idx[i] = from + i;
    }
    return idx;
  }
}
