package io.semisup.core.image;

/**
 * Why an input was not turned into an image, so pipelines can count and report rejects by cause
 * instead of failing a whole job on one bad file among billions. Each reason has one meaning:
 * the decoder's reasons say what is wrong with the bytes, the others what kept the bytes from
 * being read ({@link #NOT_FOUND}, {@link #UNREADABLE}) or the image from being used
 * ({@link #UNKNOWN_CLASS}, {@link #SAME_AS_EVAL}).
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
      "Convert the image to PNG or baseline RGB JPEG"),
  TIMEOUT("decoding took longer than the per-image time limit",
      "Raise shard.max-decode-millis if such images are expected, or drop the file"),
  NOT_FOUND("the file did not exist when it was read",
      "Check the path; a file deleted or moved after listing is reported here"),
  UNREADABLE("the file or folder could not be read",
      "Check permissions and that the path is a regular file or folder (not a FIFO, socket, "
          + "device or symlink loop)"),
  UNKNOWN_CLASS("a labelled image sits in a folder that is not a class of the training split",
      "Add the class folder to data.train-dir or move the image"),
  SAME_AS_EVAL("a training image is byte-identical to an image of the evaluation split",
      "Remove the copy from the training folder: the evaluation split keeps it");

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
