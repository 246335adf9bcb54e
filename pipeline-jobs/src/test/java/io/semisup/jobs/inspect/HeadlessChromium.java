package io.semisup.jobs.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.testing.Prerequisites;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs Debian's headless Chromium on local pages for tests: DOM dumps and screenshots. */
public final class HeadlessChromium {

  private final Path work;

  public HeadlessChromium(Path work) {
    this.work = work;
  }

  /** The DOM after the page's load event. */
  public String dumpDom(Path page) throws Exception {
    return run(List.of("--dump-dom", page.toUri().toString()));
  }

  /** A screenshot of the page's first {@code width} x {@code height} pixels. */
  public Path screenshot(Path page, int width, int height) throws Exception {
    Path png = Files.createTempFile(work, "shot", ".png");
    run(List.of("--screenshot=" + png, "--window-size=" + width + "," + height, "--hide-scrollbars", page.toUri().toString()));
    return png;
  }

  private String run(List<String> args) throws Exception {
    Path profile = Files.createTempDirectory(work, "chromium-profile");
    List<String> cmd = new ArrayList<>(List.of(Prerequisites.chromium().toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--user-data-dir=" + profile));
    cmd.addAll(args);
    Path out = Files.createTempFile(work, "chromium", ".out");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(work.resolve("chromium-stderr.log").toFile());
    Process p = pb.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish in 120 s");
    }
    assertThat(p.exitValue()).as("chromium exit code; stderr in %s", work.resolve("chromium-stderr.log")).isZero();
    return Files.readString(out);
  }

  /** Luminance standard deviation and the number of grey levels used by more than 20 pixels, in a rectangle. */
  public static double[] pixelStats(BufferedImage shot, int x0, int y0, int w, int h) {
    int[] levels = new int[256];
    double sum = 0;
    double sumSq = 0;
    int n = 0;
    for (int y = Math.max(0, y0); y < Math.min(shot.getHeight(), y0 + h); y++) {
      for (int x = Math.max(0, x0); x < Math.min(shot.getWidth(), x0 + w); x++) {
        int rgb = shot.getRGB(x, y);
        int lum = (((rgb >> 16) & 0xff) + ((rgb >> 8) & 0xff) + (rgb & 0xff)) / 3;
        levels[lum]++;
        sum += lum;
        sumSq += (double) lum * lum;
        n++;
      }
    }
    double mean = sum / Math.max(1, n);
    double std = Math.sqrt(Math.max(0, sumSq / Math.max(1, n) - mean * mean));
    long distinct = java.util.Arrays.stream(levels).filter(c -> c > 20).count();
    return new double[] {std, distinct};
  }
}
