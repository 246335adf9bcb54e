package io.semisup.jobs.config;

import com.typesafe.config.Config;

/**
 * The whole configuration as typed, validated values: one record per section of {@code
 * conf/defaults.conf}. Built once per resolved configuration ({@link SemisupConfig#settings()}),
 * so a bad value fails the command before any Spark work, and stages read {@code
 * settings.select().k()} instead of a string key.
 */
public record Settings(
    RunSettings run, SparkSettings spark, DataSettings data, ShardSettings shard, ModelSettings model,
    TrainSettings trainDefaults, TeacherSettings teacher, StudentSettings student, TrainSettings finetune,
    ScoreSettings score, SelectSettings select, ReportSettings report, AblateSettings ablate,
    KernelSettings kernels, FixresSettings fixres, AuditSettings audit,
    DedupSettings dedup) {

  /**
   * Reads and validates every section, then the rules between keys.
   *
   * @param config the resolved {@code semisup} subtree
   * @param defaults the {@code semisup} subtree of {@code conf/defaults.conf} (error hints)
   * @throws io.semisup.core.UsageError naming the first bad key, its value and what it accepts
   */
  static Settings from(Config config, Config defaults) {
    SettingsReader r = new SettingsReader(config, defaults);
    Settings s = new Settings(RunSettings.from(r), SparkSettings.from(r), DataSettings.from(r),
        ShardSettings.from(r), ModelSettings.from(r), TrainSettings.from(r, "train-defaults"),
        TeacherSettings.from(r), StudentSettings.from(r), TrainSettings.from(r, "finetune"), ScoreSettings.from(r),
        SelectSettings.from(r), ReportSettings.from(r), AblateSettings.from(r), KernelSettings.from(r),
        FixresSettings.from(r), AuditSettings.from(r),
        DedupSettings.from(r));
    s.checkRulesBetweenKeys(r);
    return s;
  }

  private void checkRulesBetweenKeys(SettingsReader r) {
    if (dedup.pairFloor() > dedup.threshold()) {
      throw r.crossKey("dedup.pair-floor", "borderline pairs lie below the threshold: set dedup.pair-floor <= dedup.threshold ("
          + dedup.threshold() + ").");
    }
    if (dedup.verifyLower() >= dedup.verifyUpper()) {
      throw r.crossKey("dedup.verify-lower", "the verified band [dedup.verify-lower, dedup.verify-upper) is empty: set"
          + " dedup.verify-lower below dedup.verify-upper (" + dedup.verifyUpper() + ").");
    }
    if (select.p() > score.topP()) {
      throw r.crossKey("select.p", "selection can only use the " + score.topP() + " classes score keeps per image"
          + " (score.top-p). Lower select.p or raise score.top-p to at least " + select.p() + ".");
    }
    int channels = model.inputChannels();
    if (channels == 2) {
      throw r.crossKey("model.input.channels", "use 1 (grey), 3 (RGB) or 0 (follow the labelled images).");
    }
    if (model.inputMean().size() != model.inputStd().size()) {
      throw r.crossKey("model.input.mean", "model.input.mean and model.input.std need as many values"
          + " (they have " + model.inputMean().size() + " and " + model.inputStd().size() + "). Give one per"
          + " channel to each, or leave both empty to use the mean and std shard measures.");
    }
    if (!model.inputMean().isEmpty() && model.inputMean().size() != 1 && model.inputMean().size() != 3) {
      throw r.crossKey("model.input.mean", "give 1 value (grey) or 3 (RGB), or leave it empty.");
    }
    if (channels != 0 && !model.inputMean().isEmpty() && model.inputMean().size() != channels) {
      throw r.crossKey("model.input.channels", "model.input.mean and model.input.std need one value per channel"
          + " (they have " + model.inputMean().size() + " and " + model.inputStd().size() + "). Give "
          + channels + " values to each, or leave both empty to use the mean and std shard measures.");
    }
    checkMultigrain(r);
    if (student.init().equals("teacher") && !sameArchitecture() && !score.ownTeacher() && teacher.initFrom().isEmpty()) {
      throw r.crossKey("student.init", "a warm start copies the teacher's weights, so the student needs the teacher's"
          + " architecture (model.student-architecture = " + model.studentArchitecture() + ", model.teacher-architecture = "
          + model.teacherArchitecture() + "). Use the same architecture, or student.init=scratch.");
    }
  }

  private void checkMultigrain(SettingsReader r) {
    MultigrainSettings mg = teacher.multigrain();
    if (!mg.enabled()) {
      return;
    }
    TrainSettings t = teacher.train();
    if (t.batchSize() % mg.repeats() != 0 || t.batchSize() / mg.repeats() < 2) {
      throw r.crossKey("teacher.batch-size", "teacher.multigrain puts " + mg.repeats() + " copies of each image in a"
          + " batch (teacher.multigrain.repeats): set teacher.batch-size to a multiple of it with at least 2 images,"
          + " e.g. " + mg.repeats() * Math.max(2, Math.round(t.batchSize() / (double) mg.repeats())) + ".");
    }
    if (t.mixupAlpha() > 0) {
      throw r.crossKey("teacher.mixup-alpha", "mixup blends copies of different images, which the MultiGrain margin"
          + " loss cannot pair: set teacher.mixup-alpha = 0 or teacher.multigrain.enabled = false.");
    }
    if (!t.augmentFlip() && t.augmentShift() == 0 && t.augmentErase() == 0 && t.cropMinArea() == 0
        && t.randaugmentOps() == 0) {
      throw r.crossKey("teacher.multigrain.enabled", "repeated copies of an image need augmentation to differ: turn on"
          + " teacher.augment-flip, -shift, -erase, crop-min-area or randaugment-ops.");
    }
  }

  /**
   * Whether the student starts from the teacher's weights: {@code student.init = teacher}, or
   * {@code auto} with a teacher of the student's architecture that this run trains (a teacher
   * brought as ONNX has no weights to copy). With {@code auto}, a larger teacher in round 1
   * teaches a student from scratch, as in the paper, and from round 2 on, where the teacher is the
   * previous round's student ({@code Rounds}), every student warm-starts.
   */
  public boolean studentWarmStart() {
    return switch (student.init()) {
      case "teacher" -> true;
      case "auto" -> sameArchitecture() && !score.ownTeacher();
      default -> false;
    };
  }

  private boolean sameArchitecture() {
    return model.studentArchitecture().equals(model.teacherArchitecture());
  }

  /** The training recipe of a training stage's section: {@code teacher}, {@code student} or {@code finetune}. */
  public TrainSettings train(String section) {
    return switch (section) {
      case "teacher" -> teacher.train();
      case "student" -> student.train();
      case "finetune" -> finetune;
      case "train-defaults" -> trainDefaults;
      default -> throw new IllegalArgumentException("Cannot find training section '" + section
          + "': known are teacher, student, finetune, train-defaults");
    };
  }
}
