package io.semisup.jobs.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The presets load, validate, and say what the README says they do; --set still wins over them. */
class PresetsTest {

  @Test
  void imagenetIsResnet50At224WithImagenetNormalisationK16000P10() {
    Settings s = SemisupConfig.load("yarn", "imagenet", null, List.of()).settings();
    assertThat(s.model().teacherArchitecture()).isEqualTo("resnet-50");
    assertThat(s.model().studentArchitecture()).isEqualTo("resnet-50");
    assertThat(s.model().inputSize()).isEqualTo(224);
    assertThat(s.model().inputChannels()).isEqualTo(3);
    assertThat(s.model().inputMean()).containsExactly(0.485, 0.456, 0.406);
    assertThat(s.model().inputStd()).containsExactly(0.229, 0.224, 0.225);
    assertThat(s.select().k()).isEqualTo(16000);
    assertThat(s.select().p()).isEqualTo(10);
    assertThat(s.teacher().train().batchSize()).isEqualTo(32);
    assertThat(s.student().train().batchSize()).isEqualTo(32);
    assertThat(s.score().batchSize()).isEqualTo(32);
  }

  @Test
  void smallColourMeasuresItsNormalisationAndTakesOverrides() {
    Settings s = SemisupConfig.load("local", "small-colour", null, List.of("model.input.size=48")).settings();
    assertThat(s.model().inputSize()).isEqualTo(48);
    assertThat(s.model().inputChannels()).isEqualTo(3);
    assertThat(s.model().inputMean()).isEmpty();
    assertThat(SemisupConfig.load("local", "small-colour", null, List.of()).settings().model().inputSize()).isEqualTo(64);
  }
}
