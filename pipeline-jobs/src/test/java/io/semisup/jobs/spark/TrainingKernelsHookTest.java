package io.semisup.jobs.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.dl4j.Dl4jPatches;
import io.semisup.core.dl4j.Dl4jPatches.Options;
import io.semisup.core.dl4j.Dl4jPatches.Patch;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The hook brings the driver's patch options to each executor JVM that deserializes it. */
class TrainingKernelsHookTest {

  @AfterEach
  void restore() {
    Dl4jPatches.install(Options.fromSystemProperties());
  }

  @Test
  void deserializingTheHookInstallsTheDriversOptions() throws Exception {
    Options driver = Options.fromSystemProperties().with(Patch.FAST_RELU, false);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(new TrainingKernelsHook(driver));
    }
    Dl4jPatches.install(Options.fromSystemProperties());
    assertThat(Dl4jPatches.status().options()).isNotEqualTo(driver);

    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      assertThat(in.readObject()).isInstanceOf(TrainingKernelsHook.class);
    }
    assertThat(Dl4jPatches.status().options()).isEqualTo(driver);
    assertThat(Dl4jPatches.status().on(Patch.FAST_RELU)).isFalse();
  }
}
