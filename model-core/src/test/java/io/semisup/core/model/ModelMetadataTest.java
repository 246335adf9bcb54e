package io.semisup.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.image.InputSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelMetadataTest {

  static ModelMetadata sample() {
    return new ModelMetadata("run1-teacher", "resnet-small", List.of("t-shirt", "trouser", "bag"),
        new InputSpec(28, 28, 1, new float[] {0.286f}, new float[] {0.353f}), 42L,
        Map.of("dataset", "fashion-mnist", "epochs", "3"));
  }

  @Test
  void jsonRoundTrip() {
    ModelMetadata m = sample();
    String json = m.toJson();
    assertThat(json).contains("\"modelId\"", "\"classNames\"", "\"input\"", "\"mean\"")
        .doesNotContain("numClasses", "\"size\"");
    ModelMetadata back = ModelMetadata.fromJson(json);
    assertThat(back).isEqualTo(m);
    assertThat(back.numClasses()).isEqualTo(3);
    assertThat(back.input().mean()).containsExactly(0.286f);
  }

  @Test
  void extraIsOptionalAndSorted() {
    ModelMetadata m = new ModelMetadata("id", "arch", List.of("a"),
        new InputSpec(2, 2, 3, new float[3], new float[] {1, 1, 1}), 0, null);
    assertThat(m.extra()).isEmpty();
    assertThat(m.withExtra("b", "2").withExtra("a", "1").extra().keySet())
        .containsExactly("a", "b");
    assertThat(ModelMetadata.fromJson(m.toJson())).isEqualTo(m);
  }

  @Test
  void rejectsInvalid() {
    InputSpec spec = new InputSpec(2, 2, 1, new float[1], new float[] {1});
    assertThatThrownBy(() -> new ModelMetadata("id", "arch", List.of(), spec, 0, null))
        .hasMessageStartingWith("Cannot create model metadata");
    assertThatThrownBy(() -> new ModelMetadata("id", "arch", List.of("a", "a"), spec, 0, null))
        .hasMessageContaining("appears twice");
    assertThatThrownBy(() -> ModelMetadata.fromJson("{\"modelId\": 3"))
        .hasMessageStartingWith("Cannot read model metadata from JSON");
    assertThatThrownBy(() -> ModelMetadata.fromJson(
        sample().toJson().replace("\"trouser\"", "\"t-shirt\"")))
        .hasMessageContaining("appears twice");
  }
}
