package io.semisup.core.dedup;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Views of a reference image that a copy of it is likely to be: the image and five crops of
 * {@value #CROP_AREA} of its area (centre and corners) rescaled to full size, each also
 * mirrored: 12 views. The leak search embeds every view of each evaluation image and keeps a
 * pool image's best similarity over them.
 *
 * <p>Why on the reference side: the evaluation set is small and fixed (10^5 images), the pool is
 * huge (10^9); twelve embeddings per reference cost nothing per pool image, while augmenting the
 * pool would multiply the scoring pass.
 */
public final class ReferenceVariants {

  /** Share of the area each crop keeps. */
  public static final double CROP_AREA = 0.7;

  /** Views per reference image. */
  public static final int COUNT = 12;

  private ReferenceVariants() {}

  /** The {@value #COUNT} views of a row-major grey image, the image itself first. */
  public static List<byte[]> of(byte[] grey, int side) {
    BufferedImage src = new BufferedImage(side, side, BufferedImage.TYPE_BYTE_GRAY);
    src.getRaster().setDataElements(0, 0, side, side, grey);
    int c = (int) Math.round(side * Math.sqrt(CROP_AREA));
    int[][] corners = {{(side - c) / 2, (side - c) / 2}, {0, 0}, {side - c, 0}, {0, side - c},
        {side - c, side - c}};
    List<byte[]> views = new ArrayList<>(COUNT);
    for (boolean mirror : new boolean[] {false, true}) {
      views.add(draw(src, 0, 0, side, side, mirror));
      for (int[] xy : corners) {
        views.add(draw(src, xy[0], xy[1], c, c, mirror));
      }
    }
    return views;
  }

  private static byte[] draw(BufferedImage src, int x, int y, int w, int h, boolean mirror) {
    int side = src.getWidth();
    BufferedImage out = new BufferedImage(side, side, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    if (mirror) {
      g.drawImage(src, side, 0, 0, side, x, y, x + w, y + h, null);
    } else {
      g.drawImage(src, 0, 0, side, side, x, y, x + w, y + h, null);
    }
    g.dispose();
    return (byte[]) out.getRaster().getDataElements(0, 0, side, side, null);
  }
}
