package io.semisup.core.experiments;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Measures how good pseudo-labels can get from one cached teacher without training a student:
 * pool accuracy and top-K precision of the raw teacher, of flip test-time augmentation, and of
 * smoothing each image's probabilities over its nearest neighbours in the teacher's pooled
 * feature space. Not a test; args: teacher model zip, seed.
 */
public final class PseudoLabelProbe {

  public static void main(String[] args) throws Exception {
    // As bin/semisup at startup: DL4J's native helpers and the training kernels.
    io.semisup.core.dl4j.Dl4jPatches.install(io.semisup.core.dl4j.Dl4jPatches.Options.fromSystemProperties());
    ComputationGraph teacher = ComputationGraph.load(Path.of(args[0]).toFile(), false);
    long seed = Long.parseLong(args[1]);
    InputSpec spec = FashionMnist.INPUT_SPEC;
    FashionMnist train = FashionMnist.load(FashionMnist.DEFAULT_DIR, true);
    int[][] split = RecipeExperiment.split(train, 100, seed);
    int[] pool = split[1];
    float[][] x = train.chw(pool, spec);
    int[] y = train.labels(pool);
    float[][] raw = RecipeExperiment.onnxProbs(teacher, spec, x);
    float[][] tta = RecipeExperiment.ttaProbs(teacher, spec, x);
    report("raw", raw, y);
    report("tta-flip", tta, y);
    float[][] feats = features(teacher, spec, x);
    // k = 5 only: larger k were not measured (the first probe was killed by the OS after k = 5).
    for (int k : new int[] {5}) {
      int[][] nn = neighbours(feats, k);
      for (double alpha : new double[] {0.0, 0.5}) {
        report(String.format(Locale.ROOT, "knn k=%d alpha=%.1f raw", k, alpha), smooth(raw, nn, alpha), y);
        report(String.format(Locale.ROOT, "knn k=%d alpha=%.1f tta", k, alpha), smooth(tta, nn, alpha), y);
      }
    }
  }

  static void report(String what, float[][] p, int[] y) {
    int ok = 0;
    List<List<Integer>> byClass = new ArrayList<>();
    for (int c = 0; c < 10; c++) {
      byClass.add(new ArrayList<>());
    }
    for (int i = 0; i < p.length; i++) {
      int best = argmax(p[i]);
      ok += best == y[i] ? 1 : 0;
      byClass.get(best).add(i);
    }
    System.out.printf(Locale.ROOT, "%-28s pool acc %.4f  P@3000 %.4f  P@4000 %.4f  P@5000 %.4f%n", what,
        ok / (double) p.length, RecipeExperiment.precision(byClass, p, y, 3000)[0],
        RecipeExperiment.precision(byClass, p, y, 4000)[0], RecipeExperiment.precision(byClass, p, y, 5000)[0]);
  }

  static int argmax(float[] v) {
    int b = 0;
    for (int c = 1; c < v.length; c++) {
      if (v[c] > v[b]) {
        b = c;
      }
    }
    return b;
  }

  /** L2-normalised global-average-pooled features (the "gap" vertex). */
  static float[][] features(ComputationGraph g, InputSpec spec, float[][] x) {
    float[][] out = new float[x.length][];
    int size = spec.size();
    for (int s = 0; s < x.length; s += 500) {
      int b = Math.min(500, x.length - s);
      float[] f = new float[b * size];
      for (int k = 0; k < b; k++) {
        System.arraycopy(x[s + k], 0, f, k * size, size);
      }
      INDArray in = Nd4j.create(f, new long[] {b, spec.channels(), spec.height(), spec.width()}, 'c');
      Map<String, INDArray> acts = g.feedForward(in, false);
      float[][] rows = acts.get("gap").toFloatMatrix();
      for (int k = 0; k < b; k++) {
        double n = 0;
        for (float v : rows[k]) {
          n += v * v;
        }
        float inv = (float) (1 / Math.sqrt(Math.max(n, 1e-12)));
        for (int d = 0; d < rows[k].length; d++) {
          rows[k][d] *= inv;
        }
        out[s + k] = rows[k];
      }
    }
    return out;
  }

  /** The k most cosine-similar other rows of each row. */
  static int[][] neighbours(float[][] f, int k) {
    INDArray all = Nd4j.create(f);
    int n = f.length;
    int[][] nn = new int[n][];
    for (int s = 0; s < n; s += 1000) {
      int b = Math.min(1000, n - s);
      float[][] sims = all.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(s, s + b),
          org.nd4j.linalg.indexing.NDArrayIndex.all()).mmul(all.transpose()).toFloatMatrix();
      for (int r = 0; r < b; r++) {
        int[] best = new int[k];
        float[] bv = new float[k];
        java.util.Arrays.fill(bv, -2f);
        for (int j = 0; j < n; j++) {
          float v = sims[r][j];
          if (j == s + r || v <= bv[k - 1]) {
            continue;
          }
          int pos = k - 1;
          while (pos > 0 && bv[pos - 1] < v) {
            bv[pos] = bv[pos - 1];
            best[pos] = best[pos - 1];
            pos--;
          }
          bv[pos] = v;
          best[pos] = j;
        }
        nn[s + r] = best;
      }
    }
    return nn;
  }

  static float[][] smooth(float[][] p, int[][] nn, double alpha) {
    float[][] out = new float[p.length][];
    for (int i = 0; i < p.length; i++) {
      float[] q = new float[p[i].length];
      for (int j : nn[i]) {
        for (int c = 0; c < q.length; c++) {
          q[c] += p[j][c] / nn[i].length;
        }
      }
      for (int c = 0; c < q.length; c++) {
        q[c] = (float) (alpha * p[i][c] + (1 - alpha) * q[c]);
      }
      out[i] = q;
    }
    return out;
  }
}
