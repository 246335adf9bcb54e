package io.semisup.core.experiments;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.TrainingConfig;
import java.util.*;
import org.deeplearning4j.nn.graph.ComputationGraph;

/** Teacher-only run in one JVM (not a test): args arch epochs batch lr seed. */
public final class TeacherProbe {
  public static void main(String[] a) {
    // As bin/semisup at startup: DL4J's native helpers and the training kernels.
    io.semisup.core.dl4j.Dl4jPatches.install(io.semisup.core.dl4j.Dl4jPatches.Options.fromSystemProperties());
    FashionMnist train = FashionMnist.load(FashionMnist.DEFAULT_DIR, true);
    FashionMnist test = FashionMnist.load(FashionMnist.DEFAULT_DIR, false);
    InputSpec spec = FashionMnist.INPUT_SPEC;
    long seed = Long.parseLong(a[4]);
    List<List<Integer>> by = new ArrayList<>();
    for (int k = 0; k < 10; k++) by.add(new ArrayList<>());
    for (int i = 0; i < train.size(); i++) by.get(train.label(i)).add(i);
    Random r = new Random(seed);
    List<Integer> pick = new ArrayList<>();
    for (var l : by) { Collections.shuffle(l, r); pick.addAll(l.subList(0, 100)); }
    int[] idx = pick.stream().mapToInt(Integer::intValue).toArray();
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(Integer.parseInt(a[1])).withBatchSize(Integer.parseInt(a[2])).withLearningRate(Double.parseDouble(a[3])).withSeed(seed);
    ComputationGraph g = Architectures.build(a[0], spec, 10, cfg);
    long t0 = System.nanoTime();
    LocalTrainer.fit(g, train.chw(idx, spec), train.labels(idx), cfg, spec, null);
    int[] all = new int[test.size()];
    for (int i = 0; i < all.length; i++) all[i] = i;
    double[] acc = LocalTrainer.evaluate(g, test.chw(all, spec), test.labels(all));
    System.out.printf("%s epochs %s batch %s lr %s: top1 %.4f (%.0f s)%n", a[0], a[1], a[2], a[3], acc[0], (System.nanoTime() - t0) / 1e9);
  }
}
