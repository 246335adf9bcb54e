package io.semisup.jobs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.jobs.stages.RunContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the PyTorch peer of {@code bench train} ({@code bench/train_resnet_small.py}, shipped in
 * the jar) with the same network, batch, images and timing, when a Python with torch is installed
 * (Debian's {@code python3-torch}); otherwise says why it is skipped.
 *
 * <p>Why a subprocess and not a number from a document: the machines are shared and noisy, so the
 * peer must run in the same run as the JVM measurements to be compared with them.
 */
final class TrainPytorchPeer {

  static final String SCRIPT = "/bench/train_resnet_small.py";

  /** One PyTorch measurement: wall images/s and images per CPU second. */
  record Result(double imagesPerSecond, double imagesPerCpuSecond, String version) {}

  private final String python;

  private TrainPytorchPeer(String python) {
    this.python = python;
  }

  /** The first of {@code candidates} that imports torch, or null. */
  static TrainPytorchPeer find(List<String> candidates) {
    for (String py : candidates) {
      try {
        Process p = new ProcessBuilder(py, "-c", "import torch").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0) {
          return new TrainPytorchPeer(py);
        }
      } catch (IOException e) {
        // not installed under this name: try the next
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
    return null;
  }

  String python() {
    return python;
  }

  /** Trains {@code epochs} timed epochs (after one warm-up) with {@code threads} intra-op threads. */
  Result run(Path idxDir, int images, int batch, int epochs, int threads, int stem, String widths,
      double mean, double std, int shift, long seed) throws IOException, InterruptedException {
    Path script = Files.createTempFile("semisup-bench-train", ".py");
    try {
      try (InputStream in = TrainPytorchPeer.class.getResourceAsStream(SCRIPT)) {
        if (in == null) {
          throw new IllegalStateException("Cannot find " + SCRIPT + " in the jar: rebuild semisup");
        }
        Files.write(script, in.readAllBytes());
      }
      List<String> cmd = new ArrayList<>(List.of(python, script.toString(),
          "--idx-dir", idxDir.toString(), "--images", "" + images, "--batch", "" + batch,
          "--epochs", "" + epochs, "--threads", "" + threads, "--stem", "" + stem,
          "--widths", widths, "--mean", "" + mean, "--std", "" + std, "--shift", "" + shift,
          "--seed", "" + seed));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
      pb.environment().put("OMP_NUM_THREADS", "" + threads);
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (p.waitFor() != 0) {
        throw new IllegalStateException("PyTorch peer failed (exit " + p.exitValue() + "): " + out);
      }
      String last = out.substring(out.lastIndexOf('\n') + 1);
      JsonNode j = RunContext.json().readTree(last);
      return new Result(j.get("img_s").asDouble(), j.get("img_per_cpu_s").asDouble(), j.get("torch").asText());
    } finally {
      Files.deleteIfExists(script);
    }
  }
}
