package io.semisup.core.experiments;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.model.Architectures.ResNetShape;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.TrainingConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Measures training and inference images/s of candidate shapes and batch sizes (not a test).
 * Args: [ws=ENABLED|NONE] [n=2048] [shapes=all|name,...] [batches=64,128,256]
 */
public final class Throughput {
  /** Cores the demo has; CPU-time throughput = images / (process CPU seconds / CORES). */
  static final int CORES = 2;

  /** Process CPU time (all threads), robust to other engineers' load on the shared cores. */
  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
        java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  public static void main(String[] args) {
    // As bin/semisup at startup: DL4J's native helpers and the training kernels.
    io.semisup.core.dl4j.Dl4jPatches.install(io.semisup.core.dl4j.Dl4jPatches.Options.fromSystemProperties());
    Map<String, String> a = new LinkedHashMap<>();
    for (String s : args) {
      String[] kv = s.split("=", 2);
      a.put(kv[0], kv[1]);
    }
    WorkspaceMode ws = WorkspaceMode.valueOf(a.getOrDefault("ws", "ENABLED"));
    int n = Integer.parseInt(a.getOrDefault("n", "2048"));
    String[] batches = a.getOrDefault("batches", "64,128,256").split(",");
    Map<String, ResNetShape> shapes = new LinkedHashMap<>();
    shapes.put("tiny16-32", new ResNetShape(16, true, new int[] {16, 32}, new int[] {1, 1}));
    shapes.put("small32-64", new ResNetShape(32, true, new int[] {32, 64}, new int[] {1, 1}));
    shapes.put("plain32-64", new ResNetShape(32, true, new int[] {32, 64}, new int[] {0, 0}));
    shapes.put("s24-24-48-96", new ResNetShape(24, true, new int[] {24, 48, 96}, new int[] {1, 1, 1}));
    shapes.put("nopool16-16-32-64", new ResNetShape(16, false, new int[] {16, 32, 64}, new int[] {1, 1, 1}));
    shapes.put("wide48-96", new ResNetShape(48, true, new int[] {48, 96}, new int[] {1, 1}));
    String only = a.getOrDefault("shapes", "all");
    System.out.println("ND4J backend: " + Nd4j.getBackend().getClass().getName()
        + " env=" + Nd4j.getExecutioner().getEnvironmentInformation());
    FashionMnist train = FashionMnist.load(FashionMnist.DEFAULT_DIR, true);
    InputSpec spec = FashionMnist.INPUT_SPEC;
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) idx[i] = i;
    float[][] x = train.chw(idx, spec);
    int[] y = train.labels(idx);
    System.out.printf("%-20s %6s %10s %10s %10s %10s %10s%n", "shape", "batch", "train/s",
        "train/cpu", "infer/s", "infer/cpu", "params");
    for (var e : shapes.entrySet()) {
      if (!only.equals("all") && !java.util.Arrays.asList(only.split(",")).contains(e.getKey())) continue;
      for (String bs : batches) {
        int b = Integer.parseInt(bs);
        TrainingConfig cfg = TrainingConfig.defaults().withBatchSize(b).withEpochs(1);
        ComputationGraph g = Architectures.build(e.getValue(), spec, 10, cfg, ws);
        LocalTrainer.fit(g, x, y, cfg, spec, null); // warm-up
        long c0 = cpuNanos();
        var st = LocalTrainer.fit(g, x, y, cfg.withEpochs(2), spec, null);
        double trCpu = 2.0 * n / ((cpuNanos() - c0) / 1e9 / CORES);
        double tr = 2.0 * n / (st.get(0).seconds() + st.get(1).seconds());
        long t0 = System.nanoTime();
        c0 = cpuNanos();
        LocalTrainer.predict(g, x);
        double inf = n / ((System.nanoTime() - t0) / 1e9);
        double infCpu = n / ((cpuNanos() - c0) / 1e9 / CORES);
        System.out.printf("%-20s %6d %10.0f %10.0f %10.0f %10.0f %10d  load=%.1f%n", e.getKey(), b,
            tr, trCpu, inf, infCpu, g.numParams(),
            java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
      }
    }
  }
}
