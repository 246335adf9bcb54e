package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.flag;

import io.semisup.core.dl4j.Dl4jPatches;

import java.util.List;

/**
 * Which of semisup's own training kernels replace DL4J's (the {@code semisup.*} JVM switches
 * before). The fast kernels compute the same functions with different rounding, which training
 * turns into a different trajectory, so each one can change a result.
 */
public record KernelSettings(boolean fastBatchNorm, boolean fastConvolution, boolean fastRelu, boolean nativeHelpers) {

  static final List<Setting> SCHEMA = List.of(
      flag("kernels.fast-batch-norm", "semisup's batch-norm statistics kernels instead of ND4J's (was -Dsemisup.batchnorm.fast-stats)."),
      flag("kernels.fast-convolution", "semisup's convolution backprop instead of DL4J's im2col (was -Dsemisup.convolution.fast-backprop)."),
      flag("kernels.fast-relu", "semisup's ReLU backprop kernel (was -Dsemisup.relu.fast-backprop)."),
      flag("kernels.native-helpers", "DL4J's native (oneDNN) layer helpers, about 6x faster on the CPU (false: was -Dorg.eclipse.deeplearning4j.helpers.disable=true)."));

  /**
   * The DL4J patches these settings ask for; a {@code -D} switch set to false (tests, benchmarks,
   * {@code SEMISUP_JAVA_OPTS}) still turns its patch off.
   */
  public Dl4jPatches.Options patches() {
    Dl4jPatches.Options fromJvm = Dl4jPatches.Options.fromSystemProperties();
    return new Dl4jPatches.Options(fastBatchNorm && fromJvm.fastBatchNorm(),
        fastConvolution && fromJvm.fastConvolution(), fastRelu && fromJvm.fastRelu(),
        nativeHelpers && fromJvm.nativeHelpers());
  }

  static KernelSettings from(SettingsReader r) {
    return new KernelSettings(r.booleanOf("kernels.fast-batch-norm"), r.booleanOf("kernels.fast-convolution"),
        r.booleanOf("kernels.fast-relu"), r.booleanOf("kernels.native-helpers"));
  }
}
