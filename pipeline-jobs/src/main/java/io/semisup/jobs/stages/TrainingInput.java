package io.semisup.jobs.stages;

import io.semisup.core.UsageError;
import io.semisup.core.image.InputSpec;
import io.semisup.jobs.config.ModelSettings;
import java.util.List;

/**
 * The {@link InputSpec} the training stages build models for: the size from
 * {@code model.input.size}, the channels and normalisation as the user set them, else as
 * {@code shard} measured them ({@link InputStatistics}). Colour images never meet a grey model
 * silently: a grey normalisation on colour data is an error unless the channels are set too.
 */
public final class TrainingInput {

  private TrainingInput() {}

  static InputSpec of(RunContext ctx) {
    ModelSettings m = ctx.settings().model();
    if (m.inputChannels() != 0 && m.normalisationGiven()) {
      return spec(m, m.inputChannels(), m.inputMean(), m.inputStd());
    }
    return resolve(m, InputStatistics.read(ctx));
  }

  /** The spec from the settings and statistics measured (by shard, or on a sample before a run starts). */
  public static InputSpec resolve(ModelSettings m, InputStatistics measured) {
    int channels = m.inputChannels();
    if (channels == 0) {
      channels = measured.channels();
      if (m.normalisationGiven() && m.inputMean().size() != channels) {
        throw new UsageError("Cannot train on the labelled images: " + measured.colourImages() + " of the "
            + measured.sampledImages() + " images shard sampled are colour, but model.input.mean and"
            + " model.input.std give " + m.inputMean().size() + " value(s). Give 3 values each, or set"
            + " model.input.channels = " + m.inputMean().size() + " to train on "
            + (m.inputMean().size() == 1 ? "grey" : "colour") + " input on purpose.");
      }
    }
    if (m.normalisationGiven()) {
      return spec(m, channels, m.inputMean(), m.inputStd());
    }
    if (measured.sampledImages() == 0) {
      throw new UsageError("Cannot measure the input's mean and std: the training split is empty."
          + " Point data.train-dir at <class>/<image> folders, or set model.input.mean and model.input.std.");
    }
    return spec(m, channels, measured.mean(channels), measured.std(channels));
  }

  private static InputSpec spec(ModelSettings m, int channels, List<Double> mean, List<Double> std) {
    return new InputSpec(m.inputHeight(), m.inputWidth(), channels, floats(mean), floats(std));
  }

  private static float[] floats(List<Double> values) {
    float[] f = new float[values.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = values.get(i).floatValue();
    }
    return f;
  }
}
