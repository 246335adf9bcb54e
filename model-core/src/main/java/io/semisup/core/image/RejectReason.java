package io.semisup.core.image;

/**
 * Why an input was not turned into an image, so pipelines can count and report rejects by cause
 * instead of failing a whole job on one bad file among billions.
 */
public enum RejectReason {
  EMPTY("the input has no bytes", "Check the source: the file or record is empty"),
  NOT_AN_IMAGE("the bytes are not in any known image format",
      "Check that the source holds images (PNG, JPEG, GIF, BMP, TIFF)"),
  TRUNCATED("the bytes end before the image does",
      "Re-fetch the file: it was cut short, e.g. by an interrupted download"),
  CORRUPT("the image data is damaged",
      "Re-fetch or drop the file: its content does not decode cleanly"),
  TOO_LARGE("the image is larger than the configured limit",
      "Raise the decoder's maxBytes/maxPixels limits if such images are expected"),
  UNSUPPORTED("the image format or variant cannot be decoded here",
      "Convert the image to PNG or baseline RGB JPEG");

  private final String text;
  private final String fix;

  RejectReason(String text, String fix) {
    this.text = text;
    this.fix = fix;
  }

  /** Short human text: what is wrong. */
  public String text() {
    return text;
  }

  /** Short human text: what to do about it. */
  public String fix() {
    return fix;
  }
}
