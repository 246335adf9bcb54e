package io.semisup.core.dl4j;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.dl4j.Dl4jPatches.Options;
import io.semisup.core.dl4j.Dl4jPatches.Patch;
import io.semisup.core.dl4j.Dl4jPatches.State;
import io.semisup.core.dl4j.Dl4jPatches.Status;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.TrainingConfig;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The seam: version check, lazy lookups behind the switches, fallback to stock DL4J. */
class Dl4jPatchesTest {

  private static final String M2_1 = Dl4jPatches.EXPECTED_VERSION;

  @AfterEach
  void restore() {
    System.clearProperty(Patch.FAST_RELU.property());
    // Back to the version on the class path and the startup switches.
    Dl4jPatches.install(Options.fromSystemProperties(), null, w -> {});
  }

  @Test
  void theClassPathsDl4jIsTheOneThePatchesWereWrittenFor() {
    assertThat(Dl4jVersions.of("org.deeplearning4j", "deeplearning4j-nn")).isEqualTo(M2_1);
    assertThat(Dl4jVersions.of("org.nd4j", "nd4j-api")).isEqualTo(M2_1);
    assertThat(Dl4jVersions.of("org.nd4j", "no-such-artifact")).isEqualTo(Dl4jVersions.UNKNOWN);
    Status s = Dl4jPatches.install(Options.all().with(Patch.NATIVE_HELPERS, false));
    assertThat(s.dl4jVersion()).isEqualTo(M2_1);
    assertThat(s.on(Patch.FAST_BATCH_NORM) && s.on(Patch.FAST_CONVOLUTION) && s.on(Patch.FAST_RELU)).isTrue();
    assertThat(s.patches().get(Patch.NATIVE_HELPERS).state()).isEqualTo(State.OFF);
    assertThat(Dl4jPatches.install(s.options())).as("installing again changes nothing").isSameAs(s);
    assertThat(s.summary()).startsWith("DL4J 1.0.0-M2.1, ND4J 1.0.0-M2.1: fast-batch-norm on,")
        .contains("native-helpers off (switched off)");
    assertThat(s.asMap()).containsEntry("dl4j", M2_1).containsEntry("fast-relu", "on");
  }

  @Test
  void anotherDl4jVersionFallsBackToStockDl4jWithOneWarning() {
    List<String> warnings = new ArrayList<>();
    Status s = Dl4jPatches.install(Options.all(), "0.9.9", warnings::add);
    Dl4jPatches.install(Options.all().with(Patch.FAST_RELU, false), "0.9.9", warnings::add);
    s = Dl4jPatches.install(Options.all(), "0.9.9", warnings::add);

    assertThat(warnings).containsExactly("semisup: DL4J 0.9.9 is not the 1.0.0-M2.1 the fast kernels "
        + "were written for; training uses stock DL4J (slower)");
    assertThat(Dl4jPatches.status()).isSameAs(s);
    assertThat(s.patches().values()).allMatch(p -> p.state() == State.FELL_BACK);
    assertThat(s.summary()).contains("fast-batch-norm fell back (DL4J version)");
    assertThat(NativeHelpers.enabled()).as("DL4J's own default: no layer helpers").isFalse();

    // A tiny graph trains, on stock DL4J.
    InputSpec spec = FashionMnist.INPUT_SPEC;
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(1).withBatchSize(8);
    ComputationGraph g = Architectures.build("resnet-tiny", spec, 10, cfg);
    assertThat(TrainingKernels.install(g)).isZero();
    Random rnd = new Random(3);
    float[][] x = new float[16][spec.size()];
    int[] y = new int[16];
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < x[i].length; j++) {
        x[i][j] = rnd.nextFloat();
      }
      y[i] = i % 10;
    }
    List<LocalTrainer.EpochStats> stats = LocalTrainer.fit(g, x, y, cfg, spec, null);
    assertThat(stats).hasSize(1);
    assertThat(stats.get(0).meanLoss()).isFinite();
    assertThat(TrainingKernels.installed(g)).isFalse();
    for (Layer l : g.getLayers()) {
      assertThat(l.getHelper()).as(l.conf().getLayer().getLayerName()).isNull();
    }
  }

  @Test
  void aSwitchedOffPatchIsNeverLookedUp() {
    Map<Patch, Integer> runs = new EnumMap<>(Patch.class);
    Map<Patch, PatchInstaller.Lookup> counting = new EnumMap<>(Patch.class);
    Dl4jPatches.lookups().forEach((p, real) -> counting.put(p, () -> {
      runs.merge(p, 1, Integer::sum);
      return real.lookUp();
    }));
    List<String> warnings = new ArrayList<>();
    PatchInstaller installer = new PatchInstaller(M2_1, M2_1, M2_1, counting, warnings::add);
    Options off = Options.none().with(Patch.FAST_CONVOLUTION, true);

    PatchInstaller.Installation now = installer.install(off);
    assertThat(runs).containsOnlyKeys(Patch.FAST_CONVOLUTION);
    assertThat(now.on()).containsOnlyKeys(Patch.FAST_CONVOLUTION);
    assertThat(now.on().get(Patch.FAST_CONVOLUTION)).isInstanceOf(FastConvolution.class);
    assertThat(now.status().patches().get(Patch.FAST_BATCH_NORM).detail()).isEqualTo("switched off");
    assertThat(installer.install(off)).as("the same options again").isSameAs(now);

    installer.install(off.with(Patch.FAST_BATCH_NORM, true));
    installer.install(off);
    installer.install(off.with(Patch.FAST_BATCH_NORM, true));
    assertThat(runs).containsEntry(Patch.FAST_BATCH_NORM, 1).containsEntry(Patch.FAST_CONVOLUTION, 1)
        .doesNotContainKeys(Patch.FAST_RELU, Patch.NATIVE_HELPERS);
    assertThat(warnings).isEmpty();
  }

  @Test
  void concurrentInstallsLookUpEachPatchOnce() throws Exception {
    java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
    Map<Patch, PatchInstaller.Lookup> slow = new EnumMap<>(Patch.class);
    for (Patch p : Patch.values()) {
      slow.put(p, () -> {
        runs.incrementAndGet();
        Thread.sleep(20); // widens the window two unguarded installs would share
        return new PatchInstaller.Found() {};
      });
    }
    PatchInstaller installer = new PatchInstaller(M2_1, M2_1, M2_1, slow, w -> {});
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
      List<java.util.concurrent.Future<PatchInstaller.Installation>> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        results.add(pool.submit(() -> {
          start.await();
          return installer.install(Options.all());
        }));
      }
      start.countDown();
      PatchInstaller.Installation first = results.get(0).get();
      for (var r : results) {
        assertThat(r.get()).isSameAs(first);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(runs.get()).isEqualTo(Patch.values().length);
  }

  @Test
  void aFailedLookupFallsBackForThatPatchAlone() {
    Map<Patch, PatchInstaller.Lookup> lookups = new EnumMap<>(Patch.class);
    for (Patch p : Patch.values()) {
      lookups.put(p, () -> new PatchInstaller.Found() {});
    }
    lookups.put(Patch.FAST_BATCH_NORM, () -> {
      throw new NoSuchFieldException("helper");
    });
    List<String> warnings = new ArrayList<>();
    PatchInstaller installer = new PatchInstaller(M2_1, M2_1, M2_1, lookups, warnings::add);

    Status s = installer.install(Options.all()).status();
    installer.install(Options.none());
    installer.install(Options.all());

    assertThat(s.patches().get(Patch.FAST_BATCH_NORM).state()).isEqualTo(State.FELL_BACK);
    assertThat(s.patches().get(Patch.FAST_BATCH_NORM).detail()).isEqualTo("NoSuchFieldException: helper");
    assertThat(s.on(Patch.FAST_CONVOLUTION) && s.on(Patch.FAST_RELU) && s.on(Patch.NATIVE_HELPERS)).isTrue();
    assertThat(installer.lookupsRun(Patch.FAST_BATCH_NORM)).as("not retried").isEqualTo(1);
    assertThat(warnings).containsExactly("semisup: cannot install fast-batch-norm on DL4J 1.0.0-M2.1 "
        + "(NoSuchFieldException: helper); training uses stock DL4J for it (slower)");
  }

  @Test
  void anNd4jMismatchFallsBackToo() {
    List<String> warnings = new ArrayList<>();
    PatchInstaller installer = new PatchInstaller(M2_1, "1.0.0-M3", M2_1, Map.of(), warnings::add);
    Status s = installer.install(Options.all()).status();
    assertThat(s.patches().values()).allMatch(p -> p.state() == State.FELL_BACK);
    assertThat(warnings).singleElement().asString().startsWith("semisup: ND4J 1.0.0-M3 is not the 1.0.0-M2.1");
    assertThat(installer.install(Options.none()).status().patches().values())
        .allMatch(p -> p.state() == State.OFF);
  }

  @Test
  void systemPropertiesSwitchPatchesOff() {
    String helpers = System.getProperty(Patch.NATIVE_HELPERS.property());
    try {
      System.setProperty(Patch.FAST_RELU.property(), "false");
      System.setProperty(Patch.NATIVE_HELPERS.property(), "true"); // DL4J's own switch: true is off
      assertThat(Options.fromSystemProperties()).isEqualTo(new Options(true, true, false, false));
      System.setProperty(Patch.FAST_RELU.property(), "true");
      System.setProperty(Patch.NATIVE_HELPERS.property(), "false");
      assertThat(Options.fromSystemProperties()).isEqualTo(Options.all());
    } finally {
      if (helpers == null) {
        System.clearProperty(Patch.NATIVE_HELPERS.property());
      } else {
        System.setProperty(Patch.NATIVE_HELPERS.property(), helpers);
      }
    }
  }
}
