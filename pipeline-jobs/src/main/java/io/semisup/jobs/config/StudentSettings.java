package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.choice;
import static io.semisup.jobs.config.Setting.flag;
import static io.semisup.jobs.config.Setting.integer;

import java.util.ArrayList;
import java.util.List;

/** The student's recipe, where its weights start, and how it mixes in the labelled images. */
public record StudentSettings(TrainSettings train, String init, boolean withLabelled, int labelledRepeat) {

  static final List<Setting> SCHEMA = schema();

  private static List<Setting> schema() {
    List<Setting> all = new ArrayList<>(TrainSettings.schema("student"));
    all.add(choice("student.init", List.of("teacher", "scratch", "auto"), "Start from the teacher's weights (same"
        + " architecture), from scratch (the paper), or auto: the teacher's weights when it has the student's"
        + " architecture, else scratch (a larger teacher in round 1, warm starts from round 2 on)."));
    all.add(flag("student.with-labelled", "Train on the labelled images too, not only on the pseudo-labelled ones."));
    all.add(integer("student.labelled-repeat", Range.atLeast(1), "Copies of each labelled image per epoch (with-labelled only).")
        .orElse("set student.with-labelled=false to train on the pseudo-labels alone"));
    return List.copyOf(all);
  }

  static StudentSettings from(SettingsReader r) {
    return new StudentSettings(TrainSettings.from(r, "student"), r.stringOf("student.init"),
        r.booleanOf("student.with-labelled"), r.intOf("student.labelled-repeat"));
  }
}
