package io.semisup.core.image;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The image id: SHA-256 of the file bytes. Derived from content rather than path, so the same
 * image reached twice (mirrors, re-crawls) is scored and selected once, and ids are stable across
 * runs and storage layouts.
 */
public final class ContentHash {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private ContentHash() {}

  /** Lowercase hex SHA-256 of the bytes (64 characters). */
  public static String of(byte[] bytes) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Cannot hash image: this JVM has no SHA-256", e);
    }
    byte[] d = md.digest(bytes);
    char[] out = new char[d.length * 2];
    for (int i = 0; i < d.length; i++) {
      out[2 * i] = HEX[(d[i] >> 4) & 0xf];
      out[2 * i + 1] = HEX[d[i] & 0xf];
    }
    return new String(out);
  }
}
