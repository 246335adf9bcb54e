package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.choice;
import static io.semisup.jobs.config.Setting.flag;
import static io.semisup.jobs.config.Setting.path;
import static io.semisup.jobs.config.Setting.real;

import io.semisup.core.audit.TwoSampleTest;
import java.util.List;

/**
 * The audit stage (Déjà Vu membership test): was a suspect set in the training set of a model?
 *
 * @param model the model stage audited: {@code finetune} (the final student), {@code student} or
 *     {@code teacher}
 * @param method {@code loss} (the model's own head) or {@code linear-head} (a softmax head
 *     retrained on frozen pooled features of half the reference set, for a replaced head)
 */
public record AuditSettings(boolean enabled, double alpha, String model, String suspectDir,
    String referenceDir, String test, String method) {

  public static final List<String> MODELS = List.of("finetune", "student", "teacher");
  public static final List<String> METHODS = List.of("loss", "linear-head");

  static final List<Setting> SCHEMA = List.of(
      flag("audit.enabled", "Run the membership audit after evaluate (false: the stage commits a note only)."),
      real("audit.alpha", Range.openClosed(0, 0.5), "Level of the one-sided test: p < alpha gives the verdict member."),
      choice("audit.model", MODELS, "The model audited: finetune (the final student), student or teacher."),
      path("audit.suspect-dir", "Suspect images in ImageNet layout (<dir>/<class>/<file>); empty: the run's val split."),
      path("audit.reference-dir", "Reference images never trained on, same layout; empty: half the suspect set by a seeded hash of the image id."),
      choice("audit.test", TwoSampleTest.Kind.keys(), "The test that decides: mann-whitney (a shift of the losses) or ks (one-sided Kolmogorov-Smirnov); both are reported."),
      choice("audit.method", METHODS, "loss: the model's loss on the true label; linear-head: a head retrained on frozen pooled features (a replaced or fine-tuned head)."));

  static AuditSettings from(SettingsReader r) {
    return new AuditSettings(r.booleanOf("audit.enabled"), r.doubleOf("audit.alpha"), r.stringOf("audit.model"),
        r.stringOf("audit.suspect-dir"), r.stringOf("audit.reference-dir"), r.stringOf("audit.test"),
        r.stringOf("audit.method"));
  }

  public TwoSampleTest.Kind testKind() {
    return TwoSampleTest.Kind.of(test);
  }
}
