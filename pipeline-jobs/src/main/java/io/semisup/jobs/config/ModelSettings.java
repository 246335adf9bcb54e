package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.choice;
import static io.semisup.jobs.config.Setting.integer;
import static io.semisup.jobs.config.Setting.realList;

import io.semisup.core.model.Architectures;
import java.util.List;

/** Networks of teacher and student and the input they take. */
public record ModelSettings(
    String teacherArchitecture, String studentArchitecture, int inputHeight, int inputWidth, int inputChannels,
    List<Double> inputMean, List<Double> inputStd) {

  static final List<Setting> SCHEMA = List.of(
      choice("model.teacher-architecture", Architectures.names(), "The teacher's network."),
      choice("model.student-architecture", Architectures.names(), "The student's network."),
      integer("model.input.height", Range.atLeast(1), "Input height in pixels (images are resized to it)."),
      integer("model.input.width", Range.atLeast(1), "Input width in pixels."),
      integer("model.input.channels", Range.atLeast(1), "Input channels (1 grey, 3 RGB)."),
      realList("model.input.mean", Range.closed(0, 1), "Per-channel mean of pixel/255 subtracted before the network."),
      realList("model.input.std", Range.above(0), "Per-channel standard deviation pixel/255 is divided by."));

  public ModelSettings {
    inputMean = List.copyOf(inputMean);
    inputStd = List.copyOf(inputStd);
  }

  static ModelSettings from(SettingsReader r) {
    return new ModelSettings(r.stringOf("model.teacher-architecture"), r.stringOf("model.student-architecture"),
        r.intOf("model.input.height"), r.intOf("model.input.width"), r.intOf("model.input.channels"),
        r.doubleListOf("model.input.mean"), r.doubleListOf("model.input.std"));
  }
}
