package io.semisup.core.scoring;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.TrainingConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * Images/s of {@link Dl4jScorer} vs {@link OnnxScorer} on one architecture (not a test: a main,
 * so surefire does not run it). Measures whether moving inference to ONNX Runtime is worth it on
 * this machine; prints one JSON line at the end.
 *
 * <p>Args (all optional, key=value): {@code arch=resnet-small batch=256 images=2048 warmup=2
 * threads=0 dir=/usr/share/datasets/fashion-mnist}.
 */
public final class ScorerBenchmark {
  private ScorerBenchmark() {}

  public static void main(String[] args) {
    // As bin/semisup at startup: DL4J's native helpers and the training kernels.
    io.semisup.core.dl4j.Dl4jPatches.install(io.semisup.core.dl4j.Dl4jPatches.Options.fromSystemProperties());
    java.util.Map<String, String> a = new java.util.HashMap<>();
    for (String s : args) {
      String[] kv = s.split("=", 2);
      a.put(kv[0], kv[1]);
    }
    String arch = a.getOrDefault("arch", "resnet-small");
    int batch = Integer.parseInt(a.getOrDefault("batch", "256"));
    int images = Integer.parseInt(a.getOrDefault("images", "2048"));
    int warmup = Integer.parseInt(a.getOrDefault("warmup", "2"));
    int threads = Integer.parseInt(a.getOrDefault("threads", "0"));
    Path dir = Path.of(a.getOrDefault("dir", FashionMnist.DEFAULT_DIR.toString()));

    InputSpec spec = FashionMnist.INPUT_SPEC;
    FashionMnist test = FashionMnist.load(dir, false);
    int[] idx = new int[images];
    for (int i = 0; i < images; i++) {
      idx[i] = i % test.size();
    }
    float[][] x = test.chw(idx, spec);
    ComputationGraph g = Architectures.build(arch, spec, 10, TrainingConfig.defaults());

    double dl4j;
    try (Dl4jScorer s = new Dl4jScorer(g, spec)) {
      dl4j = imagesPerSecond(s, x, batch, warmup);
    }
    long t0 = System.nanoTime();
    byte[] onnx = new OnnxExporter(spec).toBytes(g);
    double exportMs = (System.nanoTime() - t0) / 1e6;
    double ort;
    try (OnnxScorer s = new OnnxScorer(onnx, spec, 10,
        OnnxScorer.Options.defaults().withIntraOpThreads(threads))) {
      ort = imagesPerSecond(s, x, batch, warmup);
    }
    System.out.println(String.format(Locale.ROOT,
        "{\"arch\":\"%s\",\"batch\":%d,\"images\":%d,\"cores\":%d,\"onnx_threads\":%d,"
            + "\"export_ms\":%.0f,\"dl4j_img_s\":%.1f,\"onnx_img_s\":%.1f,\"speedup\":%.2f}",
        arch, batch, images, Runtime.getRuntime().availableProcessors(), threads, exportMs, dl4j,
        ort, ort / dl4j));
  }

  /** Scores all images in batches after {@code warmup} untimed batches. */
  private static double imagesPerSecond(Scorer s, float[][] x, int batch, int warmup) {
    for (int w = 0; w < warmup; w++) {
      s.probabilities(Arrays.copyOfRange(x, 0, Math.min(batch, x.length)));
    }
    long t0 = System.nanoTime();
    float sink = 0;
    for (int from = 0; from < x.length; from += batch) {
      float[][] p = s.probabilities(Arrays.copyOfRange(x, from, Math.min(from + batch, x.length)));
      sink += p[0][0];
    }
    double sec = (System.nanoTime() - t0) / 1e9;
    if (Float.isNaN(sink)) {
      throw new IllegalStateException("NaN probabilities");
    }
    System.out.printf(Locale.ROOT, "%s: %d images in %.2f s%n", s.getClass().getSimpleName(),
        x.length, sec);
    return x.length / sec;
  }
}
