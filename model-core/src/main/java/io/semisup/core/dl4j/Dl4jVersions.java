package io.semisup.core.dl4j;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The version of a DL4J or ND4J artifact on the class path, from the {@code pom.properties} Maven
 * writes into each jar (and the application jar's shading keeps).
 *
 * <p>Why not the jar manifest: DL4J's and ND4J's manifests carry no version, and in the shaded
 * application jar the manifest is semisup's own.
 */
final class Dl4jVersions {

  /** What {@link #of} answers when the artifact's {@code pom.properties} is not found. */
  static final String UNKNOWN = "unknown (no pom.properties)";

  private Dl4jVersions() {}

  /** The version of {@code groupId:artifactId}, or {@link #UNKNOWN}. */
  static String of(String groupId, String artifactId) {
    String resource = "META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties";
    ClassLoader loader = Dl4jVersions.class.getClassLoader();
    try (InputStream in = loader.getResourceAsStream(resource)) {
      if (in == null) {
        return UNKNOWN;
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", UNKNOWN).trim();
    } catch (IOException | IllegalArgumentException e) {
      return UNKNOWN;
    }
  }
}
