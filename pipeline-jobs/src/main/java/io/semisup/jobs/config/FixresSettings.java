package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.choice;
import static io.semisup.jobs.config.Setting.flag;
import static io.semisup.jobs.config.Setting.integer;
import static io.semisup.jobs.config.Setting.real;

import java.util.List;

/**
 * The {@code fixres} stage (FixRes, Touvron et al. 2019): which model it fixes, at which test
 * resolution, and the classifier's SGD (the official recipe: lr 1e-3 x batch / 512, momentum
 * 0.9, weight decay 1e-4).
 */
public record FixresSettings(boolean enabled, String model, int testSize, int epochs, int batchSize,
    double learningRate, double momentum, double weightDecay) {

  /** The model stages {@code fixres.model} may name. */
  static final List<String> MODELS = List.of("teacher", "student", "finetune");

  static final List<Setting> SCHEMA = List.of(
      flag("fixres.enabled", "Run the fixres stage after finetune (demo); evaluate then reports its model as 'fixres'."),
      choice("fixres.model", MODELS, "The committed model stage of the run to fix at the test resolution."),
      integer("fixres.test-size", Range.atLeast(0), "Test resolution, square (0 = the data's, model.input.size)."),
      integer("fixres.epochs", Range.atLeast(0), "Passes of classifier SGD over the labelled images (0: only the BN statistics)."),
      integer("fixres.batch-size", Range.atLeast(1), "Images per classifier SGD step."),
      real("fixres.learning-rate", Range.above(0), "Classifier learning rate at batch 512, scaled linearly with batch-size."),
      real("fixres.momentum", Range.closedOpen(0, 1), "Classifier SGD momentum."),
      real("fixres.weight-decay", Range.atLeast(0), "L2 on the classifier's weights."));

  static FixresSettings from(SettingsReader r) {
    return new FixresSettings(r.booleanOf("fixres.enabled"), r.stringOf("fixres.model"),
        r.intOf("fixres.test-size"), r.intOf("fixres.epochs"), r.intOf("fixres.batch-size"),
        r.doubleOf("fixres.learning-rate"), r.doubleOf("fixres.momentum"), r.doubleOf("fixres.weight-decay"));
  }
}
