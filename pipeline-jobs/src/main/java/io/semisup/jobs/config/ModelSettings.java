package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.choice;
import static io.semisup.jobs.config.Setting.integer;
import static io.semisup.jobs.config.Setting.real;
import static io.semisup.jobs.config.Setting.realList;

import io.semisup.core.model.Architectures;
import io.semisup.core.model.GlobalPool;
import java.util.List;

/** Networks of teacher and student and the input they take. */
public record ModelSettings(
    String teacherArchitecture, String studentArchitecture, int inputHeight, int inputWidth, int inputChannels,
    List<Double> inputMean, List<Double> inputStd, String pooling, double gemP) {

  static final List<Setting> SCHEMA = List.of(
      choice("model.teacher-architecture", Architectures.names(), "The teacher's network."),
      choice("model.student-architecture", Architectures.names(), "The student's network."),
      integer("model.input.height", Range.atLeast(1), "Input height in pixels (images are resized to it)."),
      integer("model.input.width", Range.atLeast(1), "Input width in pixels."),
      integer("model.input.channels", Range.atLeast(1), "Input channels (1 grey, 3 RGB)."),
      realList("model.input.mean", Range.closed(0, 1), "Per-channel mean of pixel/255 subtracted before the network."),
      realList("model.input.std", Range.above(0), "Per-channel standard deviation pixel/255 is divided by."),
      choice("model.pooling", GlobalPool.KINDS, "Global pooling before the classifier: avg, or gem (generalized mean, MultiGrain); its output is the image embedding."),
      real("model.gem-p", Range.closed(1, 100), "GeM's exponent (fixed); 1 is average pooling, large values approach max pooling."));

  public ModelSettings {
    inputMean = List.copyOf(inputMean);
    inputStd = List.copyOf(inputStd);
  }

  static ModelSettings from(SettingsReader r) {
    return new ModelSettings(r.stringOf("model.teacher-architecture"), r.stringOf("model.student-architecture"),
        r.intOf("model.input.height"), r.intOf("model.input.width"), r.intOf("model.input.channels"),
        r.doubleListOf("model.input.mean"), r.doubleListOf("model.input.std"),
        r.stringOf("model.pooling"), r.doubleOf("model.gem-p"));
  }

  /** The global pooling every architecture of this run ends with. */
  public GlobalPool globalPool() {
    return "gem".equals(pooling) ? GlobalPool.gem(gemP) : GlobalPool.AVG;
  }
}
