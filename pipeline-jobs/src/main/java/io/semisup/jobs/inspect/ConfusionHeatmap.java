package io.semisup.jobs.inspect;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * The confusion matrix as a PNG heat-map: one pixel (or a square of pixels, for few classes) per
 * (assigned class, true class) cell, rows normalised by the assigned class's pseudo-labels, the
 * square root of the share mapped from white to dark red so that small confusions stay visible.
 * At 1,000 classes a table of a million cells is unreadable and heavy; a 1,000 x 1,000 image of
 * mostly white pixels compresses to a few kilobytes and shows the blocks of confused classes.
 */
public final class ConfusionHeatmap {

  private ConfusionHeatmap() {}

  /** One cell: assigned class index, true class index, count. */
  public record Cell(int assigned, int truth, long count) {}

  /** A PNG of {@code classes} x {@code classes} cells, at least about 200 pixels wide. */
  public static byte[] png(int classes, List<Cell> cells) throws IOException {
    int scale = Math.max(1, 200 / Math.max(1, classes));
    int side = Math.max(1, classes) * scale;
    BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
    int white = Color.WHITE.getRGB();
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        img.setRGB(x, y, white);
      }
    }
    long[] rowTotals = new long[classes];
    for (Cell c : cells) {
      rowTotals[c.assigned()] += c.count();
    }
    for (Cell c : cells) {
      double share = Math.sqrt((double) c.count() / Math.max(1, rowTotals[c.assigned()]));
      int rgb = new Color(255 - (int) Math.round(share * 155), 255 - (int) Math.round(share * 235),
          255 - (int) Math.round(share * 225)).getRGB();
      for (int dy = 0; dy < scale; dy++) {
        for (int dx = 0; dx < scale; dx++) {
          img.setRGB(c.truth() * scale + dx, c.assigned() * scale + dy, rgb);
        }
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  /** Cells from (assigned index, true class name, count) where the true name is one of the run's classes. */
  public static List<Cell> cells(List<Object[]> rows, Map<String, Integer> indexByName) {
    return rows.stream()
        .filter(r -> indexByName.containsKey((String) r[1]))
        .map(r -> new Cell((Integer) r[0], indexByName.get((String) r[1]), (Long) r[2]))
        .toList();
  }
}
