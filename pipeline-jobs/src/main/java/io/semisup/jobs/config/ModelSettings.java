package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.choice;
import static io.semisup.jobs.config.Setting.integer;
import static io.semisup.jobs.config.Setting.real;
import static io.semisup.jobs.config.Setting.realList;

import io.semisup.core.model.Architectures;
import io.semisup.core.model.GlobalPool;
import java.util.List;

/**
 * Networks of teacher and student and the input they take. The input is square
 * ({@code model.input.size}); channel count and normalisation follow the data unless given: 0
 * channels and empty mean/std mean "as {@code shard} measured on the labelled images"
 * ({@code io.semisup.jobs.stages.InputStatistics}).
 */
public record ModelSettings(
    String teacherArchitecture, String studentArchitecture, int inputSize, int inputChannels,
    List<Double> inputMean, List<Double> inputStd, String pooling, double gemP, double testResizeRatio) {

  static final List<Setting> SCHEMA = List.of(
      choice("model.teacher-architecture", Architectures.names(), "The teacher's network."),
      choice("model.student-architecture", Architectures.names(), "The student's network."),
      integer("model.input.size", Range.atLeast(1), "Input height and width in pixels (images are resized to it)."),
      integer("model.input.channels", Range.closed(0, 3),
          "Input channels: 1 grey, 3 RGB, 0 = follow the labelled images (3 if any sampled one is colour)."),
      realList("model.input.mean", Range.closed(0, 1),
          "Per-channel mean of pixel/255 subtracted before the network; empty = measured by shard on the labelled images."),
      realList("model.input.std", Range.above(0),
          "Per-channel standard deviation pixel/255 is divided by; empty = measured by shard."),
      choice("model.pooling", GlobalPool.KINDS, "Global pooling before the classifier: avg, or gem (generalized mean, MultiGrain); its output is the image embedding."),
      real("model.gem-p", Range.closed(1, 100), "GeM's exponent (fixed); 1 is average pooling, large values approach max pooling."),
      real("model.test-resize-ratio", Range.closed(1, 2),
          "Test transform of every model the run trains or fixes (saved in its metadata, used by score, evaluate, fixres):"
              + " resize to ratio x the model's size, then centre crop; 1 = plain resize, photos: 256/224."));

  public ModelSettings {
    inputMean = List.copyOf(inputMean);
    inputStd = List.copyOf(inputStd);
  }

  /** Input height in pixels: {@code model.input.size}. */
  public int inputHeight() {
    return inputSize;
  }

  /** Input width in pixels: {@code model.input.size}. */
  public int inputWidth() {
    return inputSize;
  }

  /** Whether mean and std are given by the user (else shard's measurement is used). */
  public boolean normalisationGiven() {
    return !inputMean.isEmpty();
  }

  static ModelSettings from(SettingsReader r) {
    return new ModelSettings(r.stringOf("model.teacher-architecture"), r.stringOf("model.student-architecture"),
        r.intOf("model.input.size"), r.intOf("model.input.channels"),
        r.doubleListOf("model.input.mean"), r.doubleListOf("model.input.std"),
        r.stringOf("model.pooling"), r.doubleOf("model.gem-p"), r.doubleOf("model.test-resize-ratio"));
  }

  /** The global pooling every architecture of this run ends with. */
  public GlobalPool globalPool() {
    return "gem".equals(pooling) ? GlobalPool.gem(gemP) : GlobalPool.AVG;

  }
}
