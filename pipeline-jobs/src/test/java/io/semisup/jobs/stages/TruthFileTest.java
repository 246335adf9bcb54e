package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.UsageError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one truth-file format: read, resolved to full URIs, and every kind of mistake named by line. */
class TruthFileTest {

  @TempDir Path dir;

  private TruthFile load(String name, String text, boolean folder) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, text);
    return TruthFile.load(new Configuration(), file.toString(), folder ? dir.resolve("pool").toString() : null);
  }

  @Test
  void resolvesRelativePathsAgainstTheUnlabelledFolderAndKeepsFullUris() throws Exception {
    TruthFile t = load("truth.tsv", "path\tclass\na/img_1.JPEG\tn01\nb/c/img_1.JPEG\tn02\n# note\n\n"
        + "file:///elsewhere/x.jpg\tn01\n/abs/y.jpg\tn02\n", true);
    String pool = "file:" + dir.resolve("pool");
    assertThat(t.entries()).extracting(TruthFile.Entry::uri).containsExactly(
        pool + "/a/img_1.JPEG", pool + "/b/c/img_1.JPEG", "file:/elsewhere/x.jpg", "file:/abs/y.jpg");
    assertThat(t.entries()).extracting(TruthFile.Entry::line).containsExactly(2, 3, 6, 7);
    t.checkClasses(List.of("n01", "n02"));
    t.checkPaths(Set.of(pool + "/a/img_1.JPEG", pool + "/b/c/img_1.JPEG", "file:/elsewhere/x.jpg", "file:/abs/y.jpg")::contains);
  }

  @Test
  void csvWithoutHeaderAndTheImportsFormat() throws Exception {
    assertThat(load("hidden_labels.csv", "path,class\nf-1.png,bag\n", true).entries())
        .extracting(TruthFile.Entry::className).containsExactly("bag");
    assertThat(load("t.csv", "f-1.png,bag\nf-2.png,coat\n", true).entries()).hasSize(2);
    // No telling extension: a tab on the first line makes it a TSV.
    assertThat(load("t.txt", "a,b.png\tbag\n", true).entries().get(0).uri()).endsWith("/pool/a,b.png");
  }

  @Test
  void mistakesNameTheFileAndLine() throws Exception {
    assertThatThrownBy(() -> load("bad.tsv", "a.jpg\tn01\nb.jpg\tn01\textra\n", true))
        .isInstanceOf(UsageError.class).hasMessageContaining("bad.tsv, line 2").hasMessageContaining("2 fields");
    assertThatThrownBy(() -> load("twice.tsv", "a.jpg\tn01\na.jpg\tn02\n", true))
        .isInstanceOf(UsageError.class).hasMessageContaining("line 2").hasMessageContaining("line 1");
    assertThatThrownBy(() -> load("rel.tsv", "a.jpg\tn01\n", false))
        .isInstanceOf(UsageError.class).hasMessageContaining("line 1").hasMessageContaining("full URIs");
    TruthFile t = load("t.tsv", "a.jpg\tn01\nb.jpg\tn09\n", true);
    assertThatThrownBy(() -> t.checkClasses(List.of("n01", "n02")))
        .isInstanceOf(UsageError.class).hasMessageContaining("line 2").hasMessageContaining("class n09");
    assertThatThrownBy(() -> t.checkPaths(uri -> uri.endsWith("/b.jpg")))
        .isInstanceOf(UsageError.class).hasMessageContaining("line 1").hasMessageContaining("matches no file");
    assertThatThrownBy(() -> TruthFile.load(new Configuration(), dir.resolve("none.tsv").toString(), null))
        .isInstanceOf(UsageError.class).hasMessageContaining("does not exist");
  }
}
