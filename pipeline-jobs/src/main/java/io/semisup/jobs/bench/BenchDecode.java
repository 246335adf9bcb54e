package io.semisup.jobs.bench;

import static io.semisup.jobs.bench.BenchSupport.loadAverage;
import static io.semisup.jobs.bench.BenchSupport.round;

import io.semisup.core.image.FastImageDecoder;
import io.semisup.core.image.InputSpec;
import io.semisup.core.image.ModelReadyEncoder;
import io.semisup.core.image.Preprocessor;
import io.semisup.jobs.stages.RunContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/semisup bench decode}: the per-image decode work of {@code score} and {@code shard}
 * alone, ImageIO against libjpeg-turbo (OpenCV) and the {@code auto} choice, in one JVM without
 * Spark or a model, so the figures are not disturbed by either ({@code bench score} and {@code
 * bench shard} time the same {@link DecodeMeter} inside their runs). Photos: {@link
 * SyntheticPhotos} at 500x375 and 1600x1200, and the same stored at {@code --max-side} as
 * model-ready shards keep them. Core-ms by the thread's CPU time; the decoders take turns, each
 * {@code --passes} times, and the median pass is reported. Last line: one JSON object.
 */
@Command(name = "decode", mixinStandardHelpOptions = true,
    description = {"Decode + resize + normalize core-ms per image (score) and check-decode core-ms"
        + " (shard): ImageIO vs libjpeg-turbo, 500x375 and 1600x1200 photos, and model-ready ones.",
        "Last line: one JSON object."})
public final class BenchDecode implements Callable<Integer> {

  @Option(names = "--images", description = "500x375 photos (default ${DEFAULT-VALUE}).")
  int images = 64;

  @Option(names = "--large-images", description = "1600x1200 photos (default ${DEFAULT-VALUE}).")
  int largeImages = 16;

  @Option(names = "--max-side", description = "Side of the model-ready copies (default ${DEFAULT-VALUE}).")
  int maxSide = 320;

  @Option(names = "--passes", description = "Timed passes per decoder, median kept (default ${DEFAULT-VALUE}).")
  int passes = 3;

  @Option(names = "--size", description = "Model input side (default ${DEFAULT-VALUE}).")
  int size = 224;

  @Option(names = "--seed", description = "Seed of the pictures (default ${DEFAULT-VALUE}).")
  long seed = 42;

  @Override
  public Integer call() throws Exception {
    double loadStart = loadAverage();
    Preprocessor pre = new Preprocessor(new InputSpec(size, size, 3,
        new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f}));
    SyntheticPhotos photos = new SyntheticPhotos(seed);
    List<byte[]> small = IntStream.range(0, images).parallel().mapToObj(photos::jpeg).toList();
    SyntheticPhotos big = new SyntheticPhotos(seed + 1, 1600, 1200, SyntheticPhotos.DEFAULT_QUALITY);
    List<byte[]> large = IntStream.range(0, largeImages).parallel().mapToObj(big::jpeg).toList();
    FastImageDecoder imageio = DecodeMeter.imageio();
    FastImageDecoder opencv = DecodeMeter.of("opencv");
    FastImageDecoder auto = DecodeMeter.of("auto");
    ModelReadyEncoder encoder = new ModelReadyEncoder(maxSide, 90);
    List<byte[]> smallStored = new ArrayList<>();
    List<byte[]> largeStored = new ArrayList<>();
    for (byte[] b : small) {
      smallStored.add(encoder.store(b, imageio.decode(b, 0, 0)).bytes());
    }
    for (byte[] b : large) {
      largeStored.add(encoder.store(b, imageio.decode(b, 0, 0)).bytes());
    }

    Map<String, Object> json = new LinkedHashMap<>();
    json.put("images", images);
    json.put("large_images", largeImages);
    json.put("avg_jpeg_bytes", avg(small));
    json.put("avg_jpeg_bytes_large", avg(large));
    json.put("max_side", maxSide);
    json.put("stored_bytes_per_image", avg(smallStored));
    json.put("stored_bytes_per_image_large", avg(largeStored));
    Object[][] score = {
      {"decode_core_ms_imageio", imageio, small}, {"decode_core_ms_opencv", opencv, small},
      {"decode_core_ms_imageio_large", imageio, large}, {"decode_core_ms_opencv_large", opencv, large},
      {"decode_core_ms_max_side", auto, smallStored}, {"decode_core_ms_max_side_large", auto, largeStored},
      {"decode_core_ms_large", auto, large}, {"decode_core_ms", auto, small},
    };
    for (Object[] s : score) {
      double[] p = new double[passes];
      for (int i = 0; i < passes; i++) {
        @SuppressWarnings("unchecked")
        List<byte[]> list = (List<byte[]>) s[2];
        p[i] = DecodeMeter.scoreCoreMs((FastImageDecoder) s[1], pre, list, 1);
      }
      json.put((String) s[0], round(median(p), 3));
    }
    Object[][] shard = {
      {"shard_check_core_ms_imageio", imageio, small}, {"shard_check_core_ms", auto, small},
      {"shard_check_core_ms_imageio_large", imageio, large}, {"shard_check_core_ms_large", auto, large},
    };
    for (Object[] s : shard) {
      double[] p = new double[passes];
      for (int i = 0; i < passes; i++) {
        @SuppressWarnings("unchecked")
        List<byte[]> list = (List<byte[]>) s[2];
        p[i] = DecodeMeter.shardCoreMs((FastImageDecoder) s[1], null, list, 1).coreMs();
      }
      json.put((String) s[0], round(median(p), 3));
    }
    for (Map.Entry<String, Object> e : json.entrySet()) {
      System.out.println(String.format(Locale.ROOT, "bench decode: %s = %s", e.getKey(), e.getValue()));
    }
    json.put("load_avg_start", round(loadStart, 1));
    json.put("load_avg_end", round(loadAverage(), 1));
    System.out.println(RunContext.json().writeValueAsString(json));
    return 0;
  }

  private static long avg(List<byte[]> l) {
    return Math.round(l.stream().mapToLong(b -> b.length).average().orElse(0));
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    java.util.Arrays.sort(s);
    return s[s.length / 2];
  }
}
