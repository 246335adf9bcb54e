package io.semisup.core.mkd;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.testing.Prerequisites;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Oxford Graffiti pair (viewpoint change of about 40 degrees, ground truth H1to3p) and
 * unrelated photographs, as Debian's opencv-doc ships them.
 */
class NearDuplicateVerifierTest {

  static final Path DATA = Path.of("/usr/share/doc/opencv-doc/examples/data");

  private static MkdWhitening whitening;

  static BufferedImage image(String name) throws IOException {
    return ImageIO.read(DATA.resolve(name).toFile());
  }

  @BeforeAll
  static void learnWhiteningOnOtherPhotos() throws IOException {
    Prerequisites.require(Files.exists(DATA.resolve("graf1.png")), "opencv-doc's example photos", "opencv-doc");
    float[] all = new float[0];
    for (String name : new String[] {"building.jpg", "aero1.jpg", "home.jpg", "baboon.jpg"}) {
      float[] p = NearDuplicateVerifier.keypointPatches(GrayImages.luma(image(name)), 600);
      float[] joined = Arrays.copyOf(all, all.length + p.length);
      System.arraycopy(p, 0, joined, all.length, p.length);
      all = joined;
    }
    int count = all.length / MkdDescriptor.PIXELS;
    whitening = MkdWhitening.learn(new MkdDescriptor().describe(all, count), count);
  }

  @Test
  void graffitiVerifiesWithTheGroundTruthHomography() throws IOException {
    NearDuplicateVerifier verifier = new NearDuplicateVerifier(whitening);
    NearDuplicateVerifier.Verdict v = verifier.verify(image("graf1.png"), image("graf3.png"));
    System.out.printf("graffiti: %d inliers of %d matches%n", v.inliers(), v.matches());
    assertThat(v.sameScene()).isTrue();
    assertThat(v.inliers()).isGreaterThanOrEqualTo(50);
    double[] truth = OpenCvMatrixFile.read(DATA.resolve("H1to3p.xml"));
    // The estimate maps image points where the ground truth does, over the image.
    double worst = 0;
    for (int y = 100; y <= 540; y += 110) {
      for (int x = 100; x <= 700; x += 150) {
        double[] e = apply(v.homography(), x, y);
        double[] t = apply(truth, x, y);
        worst = Math.max(worst, Math.hypot(e[0] - t[0], e[1] - t[1]));
      }
    }
    System.out.printf("graffiti: worst transfer error %.2f px%n", worst);
    assertThat(worst).isLessThan(5);
  }

  @Test
  void unrelatedPhotosDoNotVerify() throws IOException {
    NearDuplicateVerifier verifier = new NearDuplicateVerifier(whitening);
    NearDuplicateVerifier.Verdict v = verifier.verify(image("graf1.png"), image("fruits.jpg"));
    System.out.printf("unrelated: %d inliers of %d matches%n", v.inliers(), v.matches());
    assertThat(v.sameScene()).isFalse();
    NearDuplicateVerifier.Verdict w = verifier.verify(image("building.jpg"), image("messi5.jpg"));
    System.out.printf("unrelated: %d inliers of %d matches%n", w.inliers(), w.matches());
    assertThat(w.sameScene()).isFalse();
  }

  @Test
  void aMirroredCopyVerifiesOnlyWhenTheMirrorIsTried() throws IOException {
    NearDuplicateVerifier verifier = new NearDuplicateVerifier(whitening);
    boofcv.struct.image.GrayF32 photo = GrayImages.luma(image("aero1.jpg"));
    boofcv.struct.image.GrayF32 mirrored = NearDuplicateVerifier.mirror(photo);
    assertThat(mirrored.get(0, 7)).isEqualTo(photo.get(photo.width - 1, 7));
    NearDuplicateVerifier.Verdict plain = verifier.verify(photo, mirrored);
    NearDuplicateVerifier.Verdict both = verifier.verifyMirrored(photo, mirrored);
    System.out.printf("mirrored copy: %d inliers plain, %d with the mirror tried%n", plain.inliers(), both.inliers());
    // Unmirrored, only symmetric structures match (measured: 16 of 892).
    assertThat(plain.inliers()).isLessThan(both.inliers() / 10);
    assertThat(both.sameScene()).isTrue();
    assertThat(both.inliers()).isGreaterThanOrEqualTo(100);
  }

  static double[] apply(double[] h, double x, double y) {
    double w = h[6] * x + h[7] * y + h[8];
    return new double[] {(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w};
  }
}
