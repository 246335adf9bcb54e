package io.semisup.jobs.bench;

import static io.semisup.jobs.bench.BenchSupport.loadAverage;
import static io.semisup.jobs.bench.BenchSupport.round;

import boofcv.abst.feature.describe.ConfigSiftDescribe;
import boofcv.abst.feature.describe.ConfigSiftScaleSpace;
import boofcv.abst.feature.describe.DescribePointRadiusAngle;
import boofcv.factory.feature.describe.FactoryDescribePointRadiusAngle;
import boofcv.struct.feature.TupleDesc_F64;
import boofcv.struct.image.GrayF32;
import io.semisup.core.mkd.GrayImages;
import io.semisup.core.mkd.MkdDescriptor;
import io.semisup.core.mkd.MkdWhitening;
import io.semisup.core.mkd.NearDuplicateVerifier;
import io.semisup.jobs.stages.RunContext;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/semisup bench mkd}: patch matching mAP of MKD descriptors on an HPatches-like patch
 * set built from opencv-doc's photographs ({@link MkdPatchSet}), against SIFT descriptors
 * (BoofCV) and raw normalised pixels, with describing speed per core, and the Graffiti pair's
 * verification, in one run.
 *
 * <p>The photos are split by scene: the whitening is learned, without labels, on the patches of
 * one half and evaluated on the other. Matching mAP as in HPatches' matching task: for each image
 * pair, every reference patch's nearest target patch, sorted by distance; the average precision of
 * that list (a nearest neighbour is right when it is the corresponding patch; recall counts all
 * reference patches); then the mean over pairs. Speeds are patches per CPU-second of the describing
 * thread (other load on the machine does not count against them). The last line is one JSON object.
 */
@Command(name = "mkd", mixinStandardHelpOptions = true,
    description = {"MKD local descriptors: patch matching mAP (whitened, unwhitened) against SIFT"
        + " and raw pixels on an HPatches-like set from opencv-doc's photos, describing speed per"
        + " core, and the Graffiti pair's verification.",
        "Last line: one JSON object."})
public final class BenchMkd implements Callable<Integer> {

  @Option(names = "--data-dir",
      description = "Folder of photos with graf1.png, graf3.png, H1to3p.xml (default ${DEFAULT-VALUE}).")
  Path dataDir = MkdPatchSet.OPENCV_DATA;

  @Option(names = "--patches-per-image",
      description = "Most corresponding patches per photo (default ${DEFAULT-VALUE}).")
  int patchesPerImage = 300;

  @Option(names = "--max-images", description = "Most photos used, 0 for all (default ${DEFAULT-VALUE}).")
  int maxImages = 0;

  @Option(names = "--seed", description = "Seed of the transforms and the split (default ${DEFAULT-VALUE}).")
  long seed = 7;

  /**
   * BoofCV's SIFT samples a 16 x 16 grid spaced sigma = radius / 6 apart: radius 12 makes the
   * grid exactly the 32x32 patch, the region MKD sees (smaller radii measured worse).
   */
  @Option(names = "--sift-radius",
      description = "Radius given to BoofCV's SIFT describer for a 32x32 patch (default ${DEFAULT-VALUE}).")
  double siftRadius = 12;

  @Override
  public Integer call() {
    double loadStart = loadAverage();
    List<Path> photos = MkdPatchSet.photos(dataDir);
    if (maxImages > 0 && photos.size() > maxImages) {
      photos = photos.subList(0, maxImages);
    }
    List<String> scenes = new ArrayList<>(new TreeSet<>(photos.stream().map(MkdPatchSet::scene).toList()));
    Collections.shuffle(scenes, new Random(seed));
    List<String> trainScenes = scenes.subList(0, scenes.size() / 2);
    long t0 = System.nanoTime();
    List<Path> all = photos;
    List<MkdPatchSet.Pair> pairs = IntStream.range(0, all.size()).parallel()
        .mapToObj(i -> MkdPatchSet.build(all.get(i), patchesPerImage, seed * 1_000_003L + i))
        .filter(p -> p.count() >= 10)
        .toList();
    List<MkdPatchSet.Pair> train = new ArrayList<>();
    List<MkdPatchSet.Pair> eval = new ArrayList<>();
    for (MkdPatchSet.Pair p : pairs) {
      (trainScenes.contains(MkdPatchSet.scene(Path.of(p.image()))) ? train : eval).add(p);
    }
    int evalPatches = eval.stream().mapToInt(MkdPatchSet.Pair::count).sum();
    int trainPatches = train.stream().mapToInt(MkdPatchSet.Pair::count).sum();
    say("patch set: %d photos, %d pairs for whitening (%d patches x 2), %d for evaluation (%d"
        + " patches x 2), built in %.1f s", photos.size(), train.size(), trainPatches, eval.size(),
        evalPatches, (System.nanoTime() - t0) / 1e9);
    if (eval.isEmpty() || trainPatches * 2 <= MkdDescriptor.DIMS) {
      throw new io.semisup.core.UsageError("Cannot run bench mkd: " + trainPatches
          + " whitening patches and " + eval.size() + " evaluation pairs from " + photos.size()
          + " photos. Raise --max-images or --patches-per-image.");
    }

    MkdDescriptor mkd = new MkdDescriptor();
    float[] trainPatchValues = concat(train);
    int trainCount = trainPatchValues.length / MkdDescriptor.PIXELS;
    MkdWhitening whitening = MkdWhitening.learn(mkd.describe(trainPatchValues, trainCount), trainCount);

    SiftPatches sift = new SiftPatches(siftRadius);
    double mkdMap = meanAp(eval, (p, n) -> whitening.apply(mkd.describe(p, n), n), whitening.outDims());
    double rawMap = meanAp(eval, mkd::describe, MkdDescriptor.DIMS);
    double siftMap = meanAp(eval, sift::describe, 128);
    double pixelMap = meanAp(eval, BenchMkd::pixels, MkdDescriptor.PIXELS);
    say("matching mAP: MKD whitened %.4f, MKD unwhitened %.4f, SIFT %.4f, pixels %.4f",
        mkdMap, rawMap, siftMap, pixelMap);

    float[] speedPatches = concat(eval);
    int speedCount = speedPatches.length / MkdDescriptor.PIXELS;
    double mkdSpeed = patchesPerCpuSecond(speedPatches, speedCount,
        (p, n) -> whitening.apply(mkd.describe(p, n), n));
    double siftSpeed = patchesPerCpuSecond(speedPatches, speedCount, sift::describe);
    say("describing speed (one thread, per CPU-second): MKD + whitening %.0f patches/s, SIFT %.0f"
        + " patches/s", mkdSpeed, siftSpeed);

    NearDuplicateVerifier.Verdict graffiti;
    try {
      GrayF32 a = GrayImages.luma(ImageIO.read(dataDir.resolve("graf1.png").toFile()));
      GrayF32 b = GrayImages.luma(ImageIO.read(dataDir.resolve("graf3.png").toFile()));
      graffiti = new NearDuplicateVerifier(whitening).verify(a, b);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    say("Graffiti 1 -> 3: %d inliers of %d matches (ratio %.3f)", graffiti.inliers(),
        graffiti.matches(), graffiti.inlierRatio());

    Map<String, Object> json = new LinkedHashMap<>();
    json.put("patches", evalPatches);
    json.put("mkd_map", round(mkdMap, 4));
    json.put("mkd_unwhitened_map", round(rawMap, 4));
    json.put("sift_map", round(siftMap, 4));
    json.put("pixels_map", round(pixelMap, 4));
    json.put("mkd_patches_per_s", round(mkdSpeed, 0));
    json.put("sift_patches_per_s", round(siftSpeed, 0));
    json.put("graffiti_inlier_ratio", round(graffiti.inlierRatio(), 4));
    json.put("graffiti_inliers", graffiti.inliers());
    json.put("whitening_patches", 2 * trainPatches);
    json.put("eval_pairs", eval.size());
    json.put("load_avg_start", round(loadStart, 1));
    json.put("load_avg_end", round(loadAverage(), 1));
    try {
      System.out.println(RunContext.json().writeValueAsString(json));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    return 0;
  }

  /** Reference and target patches of all pairs, one after the other. */
  private static float[] concat(List<MkdPatchSet.Pair> pairs) {
    int n = pairs.stream().mapToInt(MkdPatchSet.Pair::count).sum();
    float[] out = new float[2 * n * MkdDescriptor.PIXELS];
    int at = 0;
    for (MkdPatchSet.Pair p : pairs) {
      int len = p.count() * MkdDescriptor.PIXELS;
      System.arraycopy(p.reference(), 0, out, at, len);
      System.arraycopy(p.target(), 0, out, at + len, len);
      at += 2 * len;
    }
    return out;
  }

  /** HPatches matching mAP over pairs, descriptors L2-normalised and compared by L2 distance. */
  static double meanAp(List<MkdPatchSet.Pair> pairs, BiFunction<float[], Integer, float[]> describe,
      int dims) {
    double sum = 0;
    for (MkdPatchSet.Pair p : pairs) {
      float[] a = normalised(describe.apply(p.reference(), p.count()), p.count(), dims);
      float[] b = normalised(describe.apply(p.target(), p.count()), p.count(), dims);
      sum += matchingAp(a, b, p.count(), dims);
    }
    return sum / pairs.size();
  }

  /** Average precision of the nearest-neighbour list of {@code n} queries, ranked by distance. */
  static double matchingAp(float[] a, float[] b, int n, int dims) {
    double[] distance = new double[n];
    boolean[] correct = new boolean[n];
    for (int i = 0; i < n; i++) {
      double best = Double.MAX_VALUE;
      int arg = -1;
      for (int j = 0; j < n; j++) {
        double d = 0;
        for (int k = 0; k < dims; k++) {
          double diff = a[i * dims + k] - b[j * dims + k];
          d += diff * diff;
        }
        if (d < best) {
          best = d;
          arg = j;
        }
      }
      distance[i] = best;
      correct[i] = arg == i;
    }
    Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
    java.util.Arrays.sort(order, (x, y) -> Double.compare(distance[x], distance[y]));
    double ap = 0;
    int hits = 0;
    for (int rank = 0; rank < n; rank++) {
      if (correct[order[rank]]) {
        hits++;
        ap += hits / (double) (rank + 1);
      }
    }
    return ap / n;
  }

  private static float[] normalised(float[] d, int n, int dims) {
    for (int i = 0; i < n; i++) {
      double s = 0;
      for (int k = 0; k < dims; k++) {
        s += (double) d[i * dims + k] * d[i * dims + k];
      }
      float scale = s > 0 ? (float) (1 / Math.sqrt(s)) : 0f;
      for (int k = 0; k < dims; k++) {
        d[i * dims + k] *= scale;
      }
    }
    return d;
  }

  /** Raw pixels minus their mean, L2-normalised (the caller normalises). */
  static float[] pixels(float[] patches, int n) {
    float[] out = new float[n * MkdDescriptor.PIXELS];
    for (int i = 0; i < n; i++) {
      int o = i * MkdDescriptor.PIXELS;
      double mean = 0;
      for (int k = 0; k < MkdDescriptor.PIXELS; k++) {
        mean += patches[o + k];
      }
      mean /= MkdDescriptor.PIXELS;
      for (int k = 0; k < MkdDescriptor.PIXELS; k++) {
        out[o + k] = (float) (patches[o + k] - mean);
      }
    }
    return out;
  }

  /** Patches per call when timing: SIFT's scale space of a whole set's mosaic would not fit. */
  private static final int SPEED_CHUNK = 1024;

  /**
   * Patches per CPU-second of this thread over (at most 16,384 of) the patches, in calls of
   * {@value #SPEED_CHUNK}: one warm-up call, then the best of three passes.
   */
  private static double patchesPerCpuSecond(float[] patches, int n,
      BiFunction<float[], Integer, float[]> describe) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    int total = Math.min(n, 16 * SPEED_CHUNK);
    List<float[]> chunks = new ArrayList<>();
    for (int start = 0; start < total; start += SPEED_CHUNK) {
      int len = Math.min(SPEED_CHUNK, total - start);
      chunks.add(java.util.Arrays.copyOfRange(patches, start * MkdDescriptor.PIXELS,
          (start + len) * MkdDescriptor.PIXELS));
    }
    describe.apply(chunks.get(0), chunks.get(0).length / MkdDescriptor.PIXELS);
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
      long c0 = mx.getCurrentThreadCpuTime();
      for (float[] chunk : chunks) {
        describe.apply(chunk, chunk.length / MkdDescriptor.PIXELS);
      }
      double s = (mx.getCurrentThreadCpuTime() - c0) / 1e9;
      best = Math.max(best, total / s);
    }
    return best;
  }

  /**
   * BoofCV's SIFT descriptor of 32x32 patches: the patches tiled into one image, 16 per row, its
   * scale space built once, each described at its centre with orientation 0 (the patches are
   * already aligned, as for MKD). Each patch sits in a cell of its own with a margin of
   * {@value #MARGIN} pixels filled by repeating its edge pixels, so that a window reaching past
   * the patch sees no neighbouring patch (neighbours in the mosaic are neighbours in both views,
   * which would leak the answer).
   */
  static final class SiftPatches {
    private static final int PER_ROW = 16;
    private static final int MARGIN = 16;
    private final double radius;

    SiftPatches(double radius) {
      this.radius = radius;
    }

    float[] describe(float[] patches, int n) {
      DescribePointRadiusAngle<GrayF32, TupleDesc_F64> sift = FactoryDescribePointRadiusAngle.sift(
          new ConfigSiftScaleSpace(), new ConfigSiftDescribe(), GrayF32.class);
      int size = MkdDescriptor.PATCH;
      int cell = size + 2 * MARGIN;
      int rows = (n + PER_ROW - 1) / PER_ROW;
      GrayF32 mosaic = new GrayF32(PER_ROW * cell, Math.max(rows, 1) * cell);
      for (int i = 0; i < n; i++) {
        int ox = (i % PER_ROW) * cell;
        int oy = (i / PER_ROW) * cell;
        int at = i * MkdDescriptor.PIXELS;
        for (int y = 0; y < cell; y++) {
          int r = Math.min(Math.max(y - MARGIN, 0), size - 1);
          int row = (oy + y) * mosaic.width + ox;
          for (int x = 0; x < cell; x++) {
            int c = Math.min(Math.max(x - MARGIN, 0), size - 1);
            mosaic.data[row + x] = patches[at + r * size + c];
          }
        }
      }
      sift.setImage(mosaic);
      int dims = sift.createDescription().size();
      float[] out = new float[n * dims];
      TupleDesc_F64 desc = sift.createDescription();
      for (int i = 0; i < n; i++) {
        double cx = (i % PER_ROW) * cell + MARGIN + (size - 1) / 2.0;
        double cy = (i / PER_ROW) * cell + MARGIN + (size - 1) / 2.0;
        if (sift.process(cx, cy, 0, radius, desc)) {
          for (int k = 0; k < dims; k++) {
            out[i * dims + k] = (float) desc.data[k];
          }
        }
      }
      return out;
    }
  }

  private static void say(String fmt, Object... args) {
    System.out.println("bench mkd: " + String.format(Locale.ROOT, fmt, args));
  }
}
