package io.semisup.core.image;

import java.awt.image.BufferedImage;
import java.util.Objects;

/**
 * A decoded image together with the facts read from its file, so callers can record the source
 * format and size without re-inspecting the bytes.
 *
 * @param format lowercase format name: "png", "jpeg", "gif", "bmp", "tiff"
 */
public record DecodedImage(BufferedImage image, int width, int height, String format) {

  public DecodedImage {
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(format, "format");
    if (width != image.getWidth() || height != image.getHeight()) {
      throw new IllegalArgumentException(
          "Cannot describe a " + image.getWidth() + "x" + image.getHeight() + " image as "
              + width + "x" + height);
    }
  }
}
