package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.UsageError;
import io.semisup.core.image.ChannelStatistics;
import io.semisup.core.image.InputSpec;
import io.semisup.jobs.config.ModelSettings;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Channels and normalisation follow the data unless set; colour never meets a grey model silently. */
class TrainingInputTest {

  private static final InputStatistics COLOUR = new InputStatistics(10, 4, List.of(0.4), List.of(0.2),
      List.of(0.5, 0.4, 0.3), List.of(0.25, 0.2, 0.15));
  private static final InputStatistics GREY = new InputStatistics(10, 0, List.of(0.3), List.of(0.35),
      List.of(0.3, 0.3, 0.3), List.of(0.35, 0.35, 0.35));

  private static ModelSettings model(int channels, List<Double> mean, List<Double> std) {
    return new ModelSettings("resnet-small", "resnet-small", 64, channels, mean, std, "avg", 3.0, 1.0);
  }

  @Test
  void followsTheImagesWhenNothingIsSet() {
    InputSpec colour = TrainingInput.resolve(model(0, List.of(), List.of()), COLOUR);
    assertThat(colour.channels()).isEqualTo(3);
    assertThat(colour.height()).isEqualTo(64);
    assertThat(colour.mean()).containsExactly(0.5f, 0.4f, 0.3f);
    assertThat(colour.std()).containsExactly(0.25f, 0.2f, 0.15f);
    assertThat(TrainingInput.resolve(model(0, List.of(), List.of()), GREY).mean()).containsExactly(0.3f);
  }

  @Test
  void explicitChannelsWinAndGreyOnColourIsAnErrorUnlessAsked() {
    InputSpec grey = TrainingInput.resolve(model(1, List.of(), List.of()), COLOUR);
    assertThat(grey.channels()).isEqualTo(1);
    assertThat(grey.mean()).containsExactly(0.4f);
    assertThatThrownBy(() -> TrainingInput.resolve(model(0, List.of(0.286), List.of(0.353)), COLOUR))
        .isInstanceOf(UsageError.class).hasMessageContaining("4 of the 10").hasMessageContaining("model.input.channels = 1");
    assertThat(TrainingInput.resolve(model(1, List.of(0.286), List.of(0.353)), COLOUR).mean()).containsExactly(0.286f);
    assertThat(TrainingInput.resolve(model(0, List.of(0.5, 0.5, 0.5), List.of(0.2, 0.2, 0.2)), COLOUR).channels())
        .isEqualTo(3);
  }

  @Test
  void statisticsOfRealPixels() {
    BufferedImage red = new BufferedImage(4, 2, BufferedImage.TYPE_3BYTE_BGR);
    for (int x = 0; x < 4; x++) {
      red.setRGB(x, 0, 0xff0000);
      red.setRGB(x, 1, 0x000000);
    }
    BufferedImage grey = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
    InputStatistics s = InputStatistics.of(new ChannelStatistics().add(red).add(grey));
    assertThat(s.channels()).isEqualTo(3);
    assertThat(s.colourImages()).isEqualTo(1);
    assertThat(s.rgbMean().get(0)).isCloseTo(4.0 / 12, org.assertj.core.api.Assertions.within(1e-6));
    assertThat(s.rgbMean().get(1)).isZero();
    assertThat(s.rgbStd().get(0)).isCloseTo(Math.sqrt(4.0 / 12 - 16.0 / 144), org.assertj.core.api.Assertions.within(1e-6));
  }
}
