package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.path;

import java.util.ArrayList;
import java.util.List;

/** The teacher's recipe and the model it may start from. */
public record TeacherSettings(TrainSettings train, String initFrom, MultigrainSettings multigrain) {

  static final List<Setting> SCHEMA = schema();

  private static List<Setting> schema() {
    List<Setting> all = new ArrayList<>(TrainSettings.schema("teacher"));
    all.add(path("teacher.init-from", "A committed model stage directory (e.g. runs/r1/finetune) to start from instead of random weights; with epochs = 0 taken as is."));
    all.addAll(MultigrainSettings.schema());
    return List.copyOf(all);
  }

  static TeacherSettings from(SettingsReader r) {
    return new TeacherSettings(TrainSettings.from(r, "teacher"), r.stringOf("teacher.init-from"),
        MultigrainSettings.from(r));
  }
}
