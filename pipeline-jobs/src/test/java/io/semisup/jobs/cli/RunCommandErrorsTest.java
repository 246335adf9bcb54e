package io.semisup.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code bin/semisup run}'s mistakes that stop before Spark starts: one line naming the option or
 * key, exit status 2.
 */
class RunCommandErrorsTest {

  @TempDir Path dir;

  private static String[] run(int expectedCode, String... args) {
    CommandLine cli = SemisupCli.commandLine();
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    assertThat(code).as(err.toString()).isEqualTo(expectedCode);
    return err.toString().lines().filter(l -> !l.isBlank()).toArray(String[]::new);
  }

  @Test
  void theUnlabelledImagesAreGivenExactlyOnce() throws Exception {
    Files.createDirectories(dir.resolve("train"));
    String[] none = run(2, "run", "--labelled", dir.resolve("train").toString(), "--test", dir.toString());
    assertThat(none).hasSize(1);
    assertThat(none[0]).contains("--unlabelled DIR").contains("--unlabelled-listing FILE");
    String[] both = run(2, "run", "--labelled", dir.toString(), "--test", dir.toString(), "--unlabelled", dir.toString(),
        "--unlabelled-listing", dir.resolve("l.txt").toString());
    assertThat(both[0]).contains("exactly one");
  }

  @Test
  void missingFoldersAndFilesNameTheirKey() throws Exception {
    String[] missing = run(2, "run", "--labelled", dir.resolve("nope").toString(), "--test", dir.toString(),
        "--unlabelled", dir.toString());
    assertThat(missing).hasSize(1);
    assertThat(missing[0]).contains("data.train-dir").contains("nope").doesNotContain("import-fashion-mnist");
    String[] truth = run(2, "run", "--labelled", dir.toString(), "--test", dir.toString(), "--unlabelled", dir.toString(),
        "--truth", dir.resolve("truth.tsv").toString());
    assertThat(truth[0]).contains("data.hidden-labels").contains("truth.tsv");
    String[] preset = run(2, "run", "--labelled", dir.toString(), "--test", dir.toString(), "--unlabelled", dir.toString(),
        "--preset", "imagenett");
    assertThat(preset[0]).contains("imagenet, small-colour");
  }

  @Test
  void theValidationSplitIsAFolderOrAFractionNotBoth() throws Exception {
    String[] missing = run(2, "run", "--labelled", dir.toString(), "--test", dir.toString(), "--unlabelled", dir.toString(),
        "--validation", dir.resolve("nope").toString());
    assertThat(missing).hasSize(1);
    assertThat(missing[0]).contains("data.validation-dir").contains("nope");
    String[] both = run(2, "run", "--labelled", dir.toString(), "--test", dir.toString(), "--unlabelled", dir.toString(),
        "--validation", dir.toString(), "--validation-fraction", "0.1");
    assertThat(both[0]).contains("--validation").contains("--validation-fraction");
    String[] range = run(2, "run", "--labelled", dir.toString(), "--test", dir.toString(), "--unlabelled", dir.toString(),
        "--validation-fraction", "1.5");
    assertThat(range[0]).contains("data.validation-fraction");
  }
}
