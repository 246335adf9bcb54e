package io.semisup.core.mkd;

import io.semisup.core.UsageError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the one matrix of an OpenCV FileStorage XML file, the format of the Oxford affine
 * dataset's ground-truth homographies as opencv-doc ships them ({@code H1to3p.xml}).
 */
public final class OpenCvMatrixFile {

  private static final Pattern DATA = Pattern.compile("<data>([^<]*)</data>");

  private OpenCvMatrixFile() {}

  /** The matrix's values, row-major. */
  public static double[] read(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new UsageError("Cannot read the matrix file " + file + ": " + e.getMessage()
          + ". Install the Debian package opencv-doc (apt-get install opencv-doc) or fix the path.", e);
    }
    Matcher m = DATA.matcher(text);
    if (!m.find()) {
      throw new UsageError("Cannot read the matrix file " + file
          + ": no <data> element. Give an OpenCV FileStorage XML matrix.");
    }
    String[] parts = m.group(1).trim().split("\\s+");
    double[] values = new double[parts.length];
    for (int i = 0; i < parts.length; i++) {
      values[i] = Double.parseDouble(parts[i]);
    }
    return values;
  }
}
