package io.semisup.core.mkd;

import boofcv.factory.geo.ConfigHomography;
import boofcv.factory.geo.ConfigRansac;
import boofcv.factory.geo.FactoryMultiViewRobust;
import boofcv.struct.geo.AssociatedPair;
import boofcv.struct.image.GrayF32;
import georegression.struct.homography.Homography2D_F64;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import org.ddogleg.fitting.modelset.ModelMatcher;

/**
 * Decides whether two images show the same scene under one planar geometric transform, the check
 * that separates true near-duplicates from merely similar images: SIFT keypoints (BoofCV), MKD
 * descriptors of their 32x32 patches (whitened when a whitening is given), mutual nearest
 * neighbours with a ratio test, then a RANSAC homography (BoofCV). The number of matches that
 * agree with the homography is the verdict: unrelated photos leave a handful of chance inliers,
 * copies, crops and re-encodings leave tens to hundreds.
 *
 * <p>Not thread-safe (the detector and RANSAC keep state): one verifier per thread.
 */
public final class NearDuplicateVerifier {

  /** Inliers from which {@link Verdict#sameScene()} says yes. */
  public static final int DEFAULT_MIN_INLIERS = 15;

  /**
   * The outcome for one pair.
   *
   * @param inliers matches consistent with {@code homography} (within 3 pixels)
   * @param matches tentative matches given to RANSAC
   * @param homography a -> b, 3x3 row-major; null when fewer than 4 matches
   * @param minInliers the verifier's threshold for {@link #sameScene()}
   */
  public record Verdict(int inliers, int matches, double[] homography, int minInliers) {
    public boolean sameScene() {
      return inliers >= minInliers;
    }

    /** Share of the tentative matches that the homography explains (0 without matches). */
    public double inlierRatio() {
      return matches == 0 ? 0 : inliers / (double) matches;
    }
  }

  private final KeypointDetector detector;
  private final PatchSampler sampler = new PatchSampler();
  private final MkdDescriptor mkd = new MkdDescriptor();
  private final MkdWhitening whitening;
  private final DescriptorMatcher matcher = new DescriptorMatcher(0.9);
  private final ModelMatcher<Homography2D_F64, AssociatedPair> ransac;
  private final int minInliers;

  /**
   * @param whitening learned on patches of other images ({@link MkdWhitening#learn}); null to
   *     match unwhitened descriptors
   */
  public NearDuplicateVerifier(MkdWhitening whitening) {
    this(whitening, 1000, DEFAULT_MIN_INLIERS, 1L);
  }

  public NearDuplicateVerifier(MkdWhitening whitening, int maxKeypoints, int minInliers, long seed) {
    this.whitening = whitening;
    this.detector = new KeypointDetector(maxKeypoints);
    this.minInliers = minInliers;
    ConfigRansac ransacConfig = new ConfigRansac(2000, 3.0);
    ransacConfig.randSeed = seed;
    this.ransac = FactoryMultiViewRobust.homographyRansac(new ConfigHomography(), ransacConfig);
  }

  public Verdict verify(BufferedImage a, BufferedImage b) {
    return verify(GrayImages.luma(a), GrayImages.luma(b));
  }

  public Verdict verify(GrayF32 a, GrayF32 b) {
    return verify(describe(a), describe(b));
  }

  /**
   * As {@link #verify(GrayF32, GrayF32)}, also against {@code b} mirrored left to right, and the
   * verdict with more inliers: a flip is the commonest alteration of a copied picture, and
   * neither SIFT's nor MKD's descriptors survive it (the homography of a mirrored copy is the
   * mirror composed with the one found). {@code a} is described once.
   */
  public Verdict verifyMirrored(GrayF32 a, GrayF32 b) {
    Described da = describe(a);
    Verdict plain = verify(da, describe(b));
    Verdict mirrored = verify(da, describe(mirror(b)));
    return mirrored.inliers() > plain.inliers() ? mirrored : plain;
  }

  /** {@code image} mirrored left to right (a new image). */
  public static GrayF32 mirror(GrayF32 image) {
    GrayF32 out = new GrayF32(image.width, image.height);
    for (int y = 0; y < image.height; y++) {
      int row = image.startIndex + y * image.stride;
      int o = y * out.width;
      for (int x = 0; x < image.width; x++) {
        out.data[o + x] = image.data[row + image.width - 1 - x];
      }
    }
    return out;
  }

  private Verdict verify(Described da, Described db) {
    int dims = whitening == null ? MkdDescriptor.DIMS : whitening.outDims();
    List<DescriptorMatcher.Match> matches =
        matcher.match(da.descriptors, da.keypoints.size(), db.descriptors, db.keypoints.size(), dims);
    if (matches.size() < ransac.getMinimumSize()) {
      return new Verdict(0, matches.size(), null, minInliers);
    }
    List<AssociatedPair> pairs = new ArrayList<>(matches.size());
    for (DescriptorMatcher.Match m : matches) {
      Keypoint ka = da.keypoints.get(m.a());
      Keypoint kb = db.keypoints.get(m.b());
      pairs.add(new AssociatedPair(ka.x(), ka.y(), kb.x(), kb.y()));
    }
    if (!ransac.process(pairs)) {
      return new Verdict(0, matches.size(), null, minInliers);
    }
    Homography2D_F64 h = ransac.getModelParameters();
    double[] homography = {h.a11, h.a12, h.a13, h.a21, h.a22, h.a23, h.a31, h.a32, h.a33};
    return new Verdict(ransac.getMatchSet().size(), matches.size(), homography, minInliers);
  }

  private record Described(List<Keypoint> keypoints, float[] descriptors) {}

  private Described describe(GrayF32 image) {
    List<Keypoint> keypoints = detector.detect(image);
    float[] patches = new float[keypoints.size() * MkdDescriptor.PIXELS];
    for (int i = 0; i < keypoints.size(); i++) {
      sampler.sample(image, keypoints.get(i), patches, i * MkdDescriptor.PIXELS);
    }
    float[] d = mkd.describe(patches, keypoints.size());
    if (whitening != null) {
      d = whitening.apply(d, keypoints.size());
    }
    return new Described(keypoints, d);
  }

  /** Patches of an image's keypoints, for learning a whitening without labels. */
  public static float[] keypointPatches(GrayF32 image, int maxKeypoints) {
    List<Keypoint> keypoints = new KeypointDetector(maxKeypoints).detect(image);
    PatchSampler sampler = new PatchSampler();
    float[] patches = new float[keypoints.size() * MkdDescriptor.PIXELS];
    for (int i = 0; i < keypoints.size(); i++) {
      sampler.sample(image, keypoints.get(i), patches, i * MkdDescriptor.PIXELS);
    }
    return patches;
  }
}
