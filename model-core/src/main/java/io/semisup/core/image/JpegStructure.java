package io.semisup.core.image;

/**
 * What a walk over a JPEG's markers says about it, without decoding a pixel: the frame's size and
 * components, and whether the file is the plain kind the fast decoder takes.
 *
 * <p>The fast path ({@link FastImageDecoder}) hands bytes to libjpeg-turbo, which cannot be
 * stopped mid-decode and patches damaged data up with warnings the Java side never sees. So it
 * takes only JPEGs whose structure is sound, checked here in one pass over the bytes: SOI first,
 * EOI last, every segment's length inside the file, one baseline or extended Huffman frame
 * (SOF0/SOF1) of 8-bit samples with 1 or 3 components, no garbage between segments, and in the
 * entropy-coded data only stuffed bytes, restart markers in their cyclic order, and real markers.
 * Everything else (progressive and arithmetic JPEGs, CMYK/YCCK, cut or damaged files, other
 * formats) gets {@code null} and goes to the ImageIO path, which classifies it as before.
 *
 * <p>What this cannot see: entropy-coded data that is damaged but still made of valid bytes
 * (libjpeg's "premature end of data segment"); the fast path decodes such a file, where the
 * ImageIO path rejects it from the decoder's warning.
 *
 * @param width frame width as stored (before any EXIF orientation)
 * @param height frame height as stored
 * @param components 1 (grey) or 3 (YCbCr or RGB)
 * @param hasExif whether an APP1 Exif segment is present (its orientation is read only then)
 */
public record JpegStructure(int width, int height, int components, boolean hasExif) {

  private static final int SOI = 0xD8;
  private static final int EOI = 0xD9;
  private static final int SOS = 0xDA;

  /** The structure of {@code b}, or null when it is not a plain, sound baseline JPEG. */
  public static JpegStructure parse(byte[] b) {
    int n = b.length;
    if (n < 4 || u8(b, 0) != 0xFF || u8(b, 1) != SOI || u8(b, n - 2) != 0xFF || u8(b, n - 1) != EOI) {
      return null;
    }
    int width = 0;
    int height = 0;
    int components = 0;
    boolean exif = false;
    boolean scanned = false;
    int pos = 2;
    while (true) {
      if (pos >= n || u8(b, pos) != 0xFF) {
        return null; // bytes between segments
      }
      while (pos < n && u8(b, pos) == 0xFF) {
        pos++; // fill bytes
      }
      if (pos >= n) {
        return null;
      }
      int marker = u8(b, pos++);
      if (marker == EOI) {
        return pos == n && scanned ? new JpegStructure(width, height, components, exif) : null;
      }
      if (marker == SOI || marker == 0x01 || marker == 0x00 || (marker >= 0xD0 && marker <= 0xD7)) {
        return null;
      }
      if (pos + 2 > n) {
        return null;
      }
      int len = u16(b, pos);
      if (len < 2 || pos + len > n) {
        return null;
      }
      int seg = pos + 2;
      switch (marker) {
        case 0xC0, 0xC1 -> {
          if (components != 0 || len < 8 || u8(b, seg) != 8) {
            return null;
          }
          height = u16(b, seg + 1);
          width = u16(b, seg + 3);
          components = u8(b, seg + 5);
          if (width == 0 || height == 0 || (components != 1 && components != 3)
              || len != 8 + 3 * components) {
            return null;
          }
        }
        case 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xDC -> {
          return null; // progressive, lossless, hierarchical, arithmetic, DNL
        }
        case 0xE1 -> exif |= len >= 8 && b[seg] == 'E' && b[seg + 1] == 'x' && b[seg + 2] == 'i'
            && b[seg + 3] == 'f';
        default -> { }
      }
      pos += len;
      if (marker == SOS) {
        if (components == 0) {
          return null;
        }
        pos = endOfEntropyData(b, pos);
        if (pos < 0) {
          return null;
        }
        scanned = true;
      }
    }
  }

  /**
   * The position of the marker that ends the entropy-coded data starting at {@code pos}, or -1
   * when a restart marker is out of order or the data runs off the end.
   */
  private static int endOfEntropyData(byte[] b, int pos) {
    int n = b.length;
    int nextRestart = 0;
    for (int i = pos; i + 1 < n; i++) {
      if (b[i] != (byte) 0xFF) {
        continue;
      }
      int next = u8(b, i + 1);
      if (next == 0x00) {
        i++;
      } else if (next >= 0xD0 && next <= 0xD7) {
        if (next - 0xD0 != nextRestart) {
          return -1;
        }
        nextRestart = (nextRestart + 1) & 7;
        i++;
      } else if (next != 0xFF) {
        return i;
      }
    }
    return -1;
  }

  private static int u8(byte[] b, int i) {
    return b[i] & 0xff;
  }

  private static int u16(byte[] b, int i) {
    return (u8(b, i) << 8) | u8(b, i + 1);
  }
}
