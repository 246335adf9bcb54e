package io.semisup.core.audit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Splits an evaluation set in two by a seeded hash of each image's id: one half the suspect set,
 * the other the reference set, where no separately held reference set exists. The same id and
 * seed always fall on the same side (whatever the order or partitioning the images come in), the
 * halves are disjoint, and a new seed gives an independent re-split (how the false-alarm rate is
 * measured without retraining).
 */
public final class HashSplit {

  private final long seed;

  public HashSplit(long seed) {
    this.seed = seed;
  }

  public long seed() {
    return seed;
  }

  /** Whether the image with this id belongs to the suspect half (else the reference half). */
  public boolean isSuspect(String imageId) {
    return (bucket(imageId) & 1) == 0;
  }

  /** 64 bits of SHA-256(seed, id): uniform whatever the ids look like (hex hashes, file names). */
  long bucket(String imageId) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(Long.toString(seed).getBytes(StandardCharsets.UTF_8));
      md.update((byte) '/');
      byte[] d = md.digest(imageId.getBytes(StandardCharsets.UTF_8));
      long v = 0;
      for (int i = 0; i < 8; i++) {
        v = (v << 8) | (d[i] & 0xff);
      }
      return v;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("This JVM has no SHA-256", e);
    }
  }
}
