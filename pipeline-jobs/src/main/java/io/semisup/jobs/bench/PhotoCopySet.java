package io.semisup.jobs.bench;

import io.semisup.core.dedup.CopyAlterations;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * Real photographs cut into a reference and a look-alike, for measuring dedup's verification:
 * the left 48% of each photo is the reference picture, the right 48% (4% apart, so no pixel is
 * shared) the distractor: another part of the same scene, with its lighting, colours and
 * texture, which a global descriptor finds similar but which is not a copy. Both are squeezed to
 * {@link #SIDE} x {@link #SIDE} grey. Planted copies are {@link CopyAlterations} of a reference
 * (crop, rescale, flip, rotation, contrast/brightness, border or text, JPEG); distractors go
 * through the same alterations, so JPEG artefacts or borders do not tell them apart.
 */
public final class PhotoCopySet {

  /** Side of every reference, copy and distractor. */
  public static final int SIDE = 256;

  /** Share of the photo's width each half takes (the 4% between them is dropped). */
  static final double HALF = 0.48;

  /** One photo: its name and two disjoint regions, grey row-major {@link #SIDE}^2 bytes. */
  public record Photo(String name, byte[] reference, byte[] distractor) {}

  private PhotoCopySet() {}

  /** The photos of {@code dir} ({@link MkdPatchSet#photos}: at least 240 x 240), cut in two. */
  public static List<Photo> load(Path dir) {
    List<Photo> out = new ArrayList<>();
    for (Path p : MkdPatchSet.photos(dir)) {
      try {
        out.add(of(p.getFileName().toString(), ImageIO.read(p.toFile())));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  /** Cuts one decoded photo into its reference (left) and distractor (right) regions. */
  public static Photo of(String name, BufferedImage img) {
    int w = img.getWidth();
    int half = (int) Math.round(w * HALF);
    return new Photo(name, region(img, 0, half), region(img, w - half, half));
  }

  /** An altered copy ({@link CopyAlterations}) of a {@link #SIDE}^2 grey picture. */
  public static byte[] alter(byte[] grey, Random rnd, CopyAlterations.Strength strength) {
    return CopyAlterations.alter(grey, SIDE, rnd, null, strength);
  }

  /** A {@link #SIDE}^2 grey picture as an image. */
  public static BufferedImage image(byte[] grey) {
    BufferedImage img = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_BYTE_GRAY);
    img.getRaster().setDataElements(0, 0, SIDE, SIDE, grey);
    return img;
  }

  /** A {@link #SIDE}^2 grey picture as PNG bytes (lossless: the alterations did the JPEG). */
  public static byte[] png(byte[] grey) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(image(grey), "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static byte[] region(BufferedImage img, int x0, int width) {
    BufferedImage out = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    g.drawImage(img, 0, 0, SIDE, SIDE, x0, 0, x0 + width, img.getHeight(), null);
    g.dispose();
    return (byte[]) out.getRaster().getDataElements(0, 0, SIDE, SIDE, null);
  }
}
