package io.semisup.core.mkd;

import boofcv.abst.feature.describe.ConfigSiftScaleSpace;
import boofcv.abst.feature.detect.interest.ConfigSiftDetector;
import boofcv.abst.feature.detect.interest.InterestPointDetector;
import boofcv.abst.feature.orientation.ConfigSiftOrientation;
import boofcv.abst.feature.orientation.OrientationImage;
import boofcv.factory.feature.detect.interest.FactoryInterestPoint;
import boofcv.factory.feature.orientation.FactoryOrientation;
import boofcv.struct.image.GrayF32;
import java.util.ArrayList;
import java.util.List;

/**
 * BoofCV's SIFT (difference-of-Gaussian) detector with SIFT orientation assignment (the dominant
 * peak of the gradient-orientation histogram; one orientation per keypoint): location,
 * scale and dominant gradient orientation per keypoint, the frame {@link PatchSampler} needs.
 * Not thread-safe (BoofCV detectors keep state); one per thread.
 */
public final class KeypointDetector {

  private final InterestPointDetector<GrayF32> detector;
  private final OrientationImage<GrayF32> orientation;

  /** At most {@code maxKeypoints} keypoints per image, the strongest kept. */
  public KeypointDetector(int maxKeypoints) {
    ConfigSiftDetector config = new ConfigSiftDetector(maxKeypoints);
    config.maxFeaturesAll = maxKeypoints;
    this.detector = FactoryInterestPoint.sift(new ConfigSiftScaleSpace(), config, GrayF32.class);
    this.orientation =
        FactoryOrientation.sift(new ConfigSiftScaleSpace(), new ConfigSiftOrientation(), GrayF32.class);
  }

  public List<Keypoint> detect(GrayF32 image) {
    detector.detect(image);
    orientation.setImage(image);
    int n = detector.getNumberOfFeatures();
    List<Keypoint> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      var p = detector.getLocation(i);
      double radius = detector.getRadius(i);
      orientation.setObjectRadius(radius);
      out.add(new Keypoint(p.x, p.y, radius, orientation.compute(p.x, p.y)));
    }
    return out;
  }
}
