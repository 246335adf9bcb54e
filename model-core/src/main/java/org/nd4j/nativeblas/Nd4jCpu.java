package org.nd4j.nativeblas;

import io.semisup.core.dl4j.NativeHelpers;

/**
 * Lets DL4J 1.0.0-M2.1's layers find out that the native build has oneDNN.
 *
 * <p>Why this class exists: DL4J's {@code BaseMKLDNNHelper.mklDnnEnabled()} asks
 * {@code org.nd4j.nativeblas.Nd4jCpu$Environment.getInstance().isUseMKLDNN()} by reflection, but
 * ND4J 1.0.0-M2.1 moved that class to {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu} and
 * renamed the method {@code isUseONEDNN}. The lookup fails, so the oneDNN convolution, batch-norm
 * and pooling helpers are never used, even with the {@code linux-x86_64-onednn-avx2} build, and
 * DL4J falls back to im2col + GEMM and hand-written batch norm (measured: 6x slower training of
 * resnet-small on this machine; docs/benchmarks.md, bench train). This class answers the old
 * question with the new binding's answer ({@link NativeHelpers#oneDnn()}, asked lazily, never
 * throwing: a failed check would make DL4J stop asking). It is only consulted when layer helpers
 * are allowed ({@link io.semisup.core.dl4j.Dl4jPatches}, switch {@code native-helpers}).
 */
public final class Nd4jCpu {

  private Nd4jCpu() {}

  /** The old name of ND4J's native environment, with the one method DL4J asks of it. */
  public static final class Environment {

    private static final Environment INSTANCE = new Environment();

    private Environment() {}

    public static Environment getInstance() {
      return INSTANCE;
    }

    /** True when the loaded native build has oneDNN and uses it. */
    public boolean isUseMKLDNN() {
      return NativeHelpers.oneDnn();
    }
  }
}
