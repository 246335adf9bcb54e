package io.semisup.jobs.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigValue;
import io.semisup.core.UsageError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Typed settings: exact types, ranges, enums, rules between keys, and the schema matches defaults.conf. */
class SettingsTest {

  private static Settings load(String... overrides) {
    return SemisupConfig.load("local", null, List.of(overrides)).settings();
  }

  private static UsageError error(String... overrides) {
    try {
      load(overrides);
    } catch (UsageError e) {
      return e;
    }
    throw new AssertionError("expected a UsageError for " + List.of(overrides));
  }

  @Test
  void defaultsAreValidAndTyped() {
    Settings s = load();
    assertThat(s.select().k()).isEqualTo(10000);
    assertThat(s.select().mode()).isEqualTo("balanced");
    assertThat(s.score().backend()).isEqualTo("onnx");
    assertThat(s.teacher().train().epochs()).isEqualTo(200);
    assertThat(s.teacher().train().randaugmentOps()).isEqualTo(2);
    assertThat(s.train("finetune").schedule()).isEqualTo("cosine");
    assertThat(s.student().labelledRepeat()).isEqualTo(30);
    assertThat(s.run().sharedStages()).containsExactly("import-fashion-mnist", "shard", "teacher", "score");
    assertThat(s.spark().conf()).containsEntry("spark.ui.enabled", "false");
    assertThat(s.kernels()).isEqualTo(new KernelSettings(true, true, true, true));
    // The input follows the data unless set: shard measures channels, mean and std.
    assertThat(s.model().inputMean()).isEmpty();
    assertThat(s.model().inputChannels()).isZero();
    assertThat(s.model().inputSize()).isEqualTo(28);
  }

  @Test
  void overridesAreTyped() {
    Settings s = load("select.k=2000", "finetune.learning-rate=0.02", "kernels.fast-relu=false", "ablate.seeds=[1,2]");
    assertThat(s.select().k()).isEqualTo(2000);
    assertThat(s.finetune().learningRate()).isEqualTo(0.02);
    assertThat(s.kernels().fastRelu()).isFalse();
    assertThat(s.ablate().seeds()).containsExactly(1L, 2L);
  }

  @Test
  void aFractionIsNotAWholeNumber() {
    assertThat(error("select.k=2.5").getMessage())
        .contains("select.k = 2.5").contains("--set select.k=2.5").contains("whole number >= 1")
        .contains("default: 10000");
    assertThat(load("select.k=2.0").select().k()).isEqualTo(2);
  }

  @Test
  void textIsNotANumber() {
    assertThat(error("select.k=abc").getMessage()).contains("select.k = abc").contains("whole number");
    assertThat(error("finetune.learning-rate=fast").getMessage()).contains("finetune.learning-rate");
    assertThat(error("score.cuda=maybe").getMessage()).contains("score.cuda").contains("true or false");
    assertThat(error("shard.max-image-bytes=99999999999999999999").getMessage()).contains("shard.max-image-bytes");
  }

  @Test
  void rangesAreChecked() {
    assertThat(error("finetune.learning-rate=-1").getMessage())
        .contains("finetune.learning-rate = -1").contains("> 0");
    assertThat(error("teacher.epochs=-1").getMessage()).contains("teacher.epochs").contains(">= 0");
    assertThat(error("student.augment-erase=1.5").getMessage()).contains("[0, 1]");
    assertThat(error("select.pool-fraction=0").getMessage()).contains("(0, 1]");
    assertThat(error("ablate.k-values=[500, 0]").getMessage()).contains("ablate.k-values").contains("each >= 1");
    assertThat(load("teacher.epochs=0").teacher().train().epochs()).isZero();
    assertThat(error("student.labelled-repeat=0").getMessage())
        .contains("student.labelled-repeat = 0").contains("or set student.with-labelled=false");
  }

  @Test
  void enumsTakeOnlyTheirValues() {
    assertThat(error("select.mode=foo").getMessage())
        .contains("select.mode = foo").contains("one of balanced, threshold");
    assertThat(error("score.backend=tensorflow").getMessage()).contains("onnx, dl4j");
    assertThat(error("model.teacher-architecture=resnet-huge").getMessage()).contains("resnet-small");
    assertThat(error("ablate.axes=[k, q]").getMessage()).contains("ablate.axes");
    assertThat(error("shared-stages=[shard, sharding]").getMessage()).contains("shared-stages");
  }

  @Test
  void unknownKeysGetADidYouMean() {
    UsageError e = error("select.kk=3");
    assertThat(e.getMessage()).startsWith("unknown key select.kk; did you mean select.k? (from --set select.kk=3)");
    assertThat(error("sellect.mode=balanced").getMessage()).contains("did you mean select.mode?");
    assertThat(error("completely.different=1").getMessage())
        .contains("unknown key completely.different").doesNotContain("did you mean");
    // spark.conf stays free-form.
    assertThat(load("spark.conf.\"spark.foo.bar\"=1").spark().conf()).containsEntry("spark.foo.bar", "1");
  }

  @Test
  void rulesBetweenKeys() {
    assertThat(error("select.p=11").getMessage()).contains("select.p = 11").contains("score.top-p");
    assertThat(load("select.p=3", "score.top-p=3").select().p()).isEqualTo(3);
    assertThat(error("score.teacher-onnx=/m.onnx").getMessage())
        .contains("score.teacher-onnx").contains("score.teacher-metadata");
    assertThat(error("model.input.channels=3", "model.input.mean=[0.5]", "model.input.std=[0.5]").getMessage())
        .contains("model.input.mean");
    assertThat(error("model.input.mean=[0.5]").getMessage()).contains("model.input.std");
    assertThat(load("model.input.channels=3").model().inputMean()).isEmpty();
    assertThat(error("model.student-architecture=resnet-tiny").getMessage()).contains("student.init=scratch");
    assertThat(load("model.student-architecture=resnet-tiny", "student.init=scratch").student().init())
        .isEqualTo("scratch");
    assertThat(error("ablate.ceiling-set=[\"teacher.epoch=3\"]").getMessage()).contains("ablate.ceiling-set");
    assertThat(error("ablate.cells=[\"student.epochs=12; student.epoch=3\"]").getMessage())
        .contains("ablate.cells").contains("student.epoch=3");
    assertThat(error("ablate.teacher-cells=[\"teacher.epochs=150; student.epochs=3\"]").getMessage())
        .contains("ablate.teacher-cells").contains("student.epochs=3").contains("ablate.cells");
    assertThat(load("ablate.teacher-cells=[\"teacher.epochs=150; teacher.augment-erase=0.5\"]").ablate().teacherCells())
        .containsExactly("teacher.epochs=150; teacher.augment-erase=0.5");
    assertThat(load("ablate.cells=[\"student.epochs=12 ; rounds=2\"]").ablate().cells())
        .containsExactly("student.epochs=12 ; rounds=2");
    // The ablation reads a cell's rounds by key, however the entry is spaced or prefixed.
    assertThat(AblateSettings.cellOverrides("student.epochs=12 ; semisup.rounds = 2"))
        .extracting(AblateSettings::keyOf).containsExactly("student.epochs", "rounds");
    assertThat(AblateSettings.valueOf("semisup.rounds = 2")).isEqualTo("2");
    assertThat(error("base-run=a/b").getMessage()).contains("base-run");
  }

  @Test
  void studentInitAutoWarmStartsOnlyFromATeacherOfTheStudentsArchitecture() {
    assertThat(load().studentWarmStart()).isTrue();
    assertThat(load("student.init=scratch").studentWarmStart()).isFalse();
    assertThat(load("student.init=auto").studentWarmStart()).isTrue();
    // A larger teacher (the paper's setup) is accepted with auto and teaches a student from scratch.
    assertThat(load("model.teacher-architecture=resnet-medium", "student.init=auto").studentWarmStart()).isFalse();
    assertThat(error("model.teacher-architecture=resnet-medium").getMessage())
        .contains("student.init").contains("resnet-medium");
    // A teacher brought as ONNX has no weights to copy.
    assertThat(load("student.init=auto", "score.teacher-onnx=/m.onnx", "score.teacher-metadata=/m.json")
        .studentWarmStart()).isFalse();
  }

  @Test
  void multigrainTeacherNeedsWholeRepeatsAugmentationAndNoMixup() {
    assertThat(load().teacher().multigrain().enabled()).isFalse();
    assertThat(error("teacher.multigrain.enabled=true").getMessage()) // the default batch of 64
        .contains("teacher.batch-size = 64").contains("multiple").contains("e.g. 63");
    var mg = load("teacher.multigrain.enabled=true", "teacher.batch-size=66").teacher().multigrain();
    assertThat(mg.objective().imagesPerBatch(66)).isEqualTo(22);
    assertThat(mg.objective().lambda()).isEqualTo(0.5);
    assertThat(error("teacher.multigrain.enabled=true", "teacher.batch-size=66", "teacher.mixup-alpha=0.2")
        .getMessage()).contains("teacher.mixup-alpha");
    assertThat(error("teacher.multigrain.enabled=true", "teacher.batch-size=66", "teacher.augment-flip=false",
        "teacher.augment-shift=0", "teacher.augment-erase=0", "teacher.randaugment-ops=0").getMessage())
        .contains("augmentation");
    assertThat(error("teacher.multigrain.repeats=1").getMessage()).contains("teacher.multigrain.repeats");
    assertThat(error("teacher.multigrain.lambda=1.5").getMessage()).contains("teacher.multigrain.lambda");
  }

  @Test
  void errorsNameTheFileAValueCameFrom(@TempDir Path dir) throws Exception {
    Path user = dir.resolve("mine.conf");
    Files.writeString(user, "semisup.select.k = 2.5\n");
    assertThatThrownBy(() -> SemisupConfig.load("local", user.toFile(), List.of()))
        .isInstanceOf(UsageError.class).hasMessageContaining("mine.conf");
  }

  @Test
  void inputsOfTheStagesToRunMustExist(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("missing");
    SemisupConfig noFashionMnist = SemisupConfig.load("local", null, List.of("data.fashion-mnist-dir=" + missing));
    assertThatThrownBy(() -> noFashionMnist.validateFor(List.of("import-fashion-mnist")))
        .isInstanceOf(UsageError.class).hasMessageContaining("data.fashion-mnist-dir").hasMessageContaining("apt-get");
    noFashionMnist.validateFor(List.of("select", "student"));

    SemisupConfig badTrainDir = SemisupConfig.load("local", null, List.of("data.train-dir=" + missing));
    assertThatThrownBy(() -> badTrainDir.validateFor(List.of("shard")))
        .isInstanceOf(UsageError.class).hasMessageContaining("data.train-dir = " + missing);
    SemisupConfig onHdfs = SemisupConfig.load("local", null, List.of("data.train-dir=hdfs://nn:8020/data/train",
        "data.val-dir=" + dir, "score.teacher-onnx=" + dir, "score.teacher-metadata=file://" + missing));
    onHdfs.validateFor(List.of("shard"));
    assertThatThrownBy(() -> onHdfs.validateFor(List.of("score")))
        .isInstanceOf(UsageError.class).hasMessageContaining("score.teacher-metadata");

    // On a cluster a path without a scheme is on the cluster's file system: left to the stage.
    SemisupConfig onYarn = SemisupConfig.load("local", null, List.of("data.train-dir=" + missing, "spark.master=yarn"));
    onYarn.validateFor(List.of("shard"));

    // A stage shared from the base run does not run here: its inputs are not checked.
    SemisupConfig shared = SemisupConfig.load("local", null,
        List.of("data.fashion-mnist-dir=" + missing, "base-run=base", "run-id=cell"));
    shared.validateFor(List.of("import-fashion-mnist", "shard", "teacher", "score"));
    assertThatThrownBy(() -> shared.validateFor(List.of("sharding"))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void everyKeyOfDefaultsConfHasExactlyOneDeclaration() {
    Set<String> inDefaults = new TreeSet<>();
    for (Map.Entry<String, ConfigValue> e : SemisupConfig.defaultsTree().entrySet()) {
      String declared = SettingsSchema.declaredKeyOf(e.getKey());
      assertThat(declared).as("declaration of %s", e.getKey()).isNotNull();
      inDefaults.add(declared);
    }
    Set<String> declared = new TreeSet<>();
    for (Setting s : SettingsSchema.all()) {
      assertThat(declared.add(s.key())).as("%s declared once", s.key()).isTrue();
    }
    assertThat(declared).isEqualTo(inDefaults);
  }

  @Test
  void sharedStagesAcceptsExactlyThePipelinesStages() {
    List<String> names = io.semisup.jobs.stages.StageGraph.standard().all().stream()
        .map(io.semisup.jobs.stages.Stage::name).toList();
    assertThat(RunSettings.STAGES).isEqualTo(names);
    assertThat(AblateSettings.AXES).isEqualTo(io.semisup.jobs.ablate.AblationGrid.AXES);
  }

  @Test
  void nonResultKeysAreThreadsLoggingBatchingAndSpark() {
    assertThat(SettingsSchema.nonResultKeys())
        .contains("score.intra-op-threads", "score.decode-threads", "score.prefetch-batches",
            "score.progress-log-seconds", "score.batch-size", "score.engine-sharing", "score.shards-per-commit",
            "score.commits-in-flight", "spark.master", "spark.conf")
        .doesNotContain("select.k", "score.top-p", "teacher.epochs", "report.images-per-class", "seed",
            "kernels.fast-batch-norm");
    assertThat(SettingsSchema.nonResultKeys(List.of("select", "seed"))).isEmpty();
    assertThat(SettingsSchema.nonResultKeys(List.of("score", "model"))).contains("score.batch-size")
        .allMatch(k -> k.startsWith("score."));
  }

  @Test
  void keySuggestionsReachTyposOnly() {
    assertThat(KeySuggestions.distance("select.kk", "select.k")).isEqualTo(1);
    assertThat(KeySuggestions.nearest("rounds", List.of("seed", "rounds"))).isEqualTo("rounds");
    assertThat(KeySuggestions.nearest("xyz", List.of("seed", "force"))).isNull();
  }
}
