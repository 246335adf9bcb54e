package io.semisup.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The {@code cuda} build profile pairs ND4J and ONNX Runtime builds for the same CUDA major: one
 * executor has one CUDA runtime on its library path, and a mismatch fails only on the GPU machine,
 * when the second library loads.
 */
class CudaProfileTest {

  /** CUDA major of ONNX Runtime's Java GPU package (onnxruntime.ai, CUDA execution provider). */
  static int onnxRuntimeCudaMajor(String version) {
    String[] v = version.split("\\.");
    int minor = Integer.parseInt(v[1]);
    // 1.13-1.18: CUDA 11.x (11.6/11.8) with cuDNN 8; from 1.19 the Java package is CUDA 12 with cuDNN 9.
    return Integer.parseInt(v[0]) == 1 && minor <= 18 ? 11 : 12;
  }

  @Test
  void nd4jAndOnnxRuntimeAreBuiltForTheSameCudaMajor() throws Exception {
    Path pom = InspectPseudoLabelsTest.repoRoot().resolve("pom.xml");
    Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
    NodeList profiles = doc.getElementsByTagName("profile");
    Element cuda = null;
    for (int i = 0; i < profiles.getLength(); i++) {
      Element p = (Element) profiles.item(i);
      if (p.getElementsByTagName("id").item(0).getTextContent().equals("cuda")) {
        cuda = p;
      }
    }
    assertThat(cuda).as("the cuda profile of %s", pom).isNotNull();
    String backend = cuda.getElementsByTagName("nd4j.backend").item(0).getTextContent();
    String artifact = cuda.getElementsByTagName("onnxruntime.artifact").item(0).getTextContent();
    String ort = cuda.getElementsByTagName("onnxruntime.version").item(0).getTextContent();
    Matcher m = Pattern.compile("nd4j-cuda-(\\d+)\\.(\\d+)-platform").matcher(backend);
    assertThat(m.matches()).as(backend).isTrue();
    assertThat(artifact).isEqualTo("onnxruntime_gpu");
    assertThat(onnxRuntimeCudaMajor(ort)).as("CUDA major of onnxruntime_gpu %s vs %s", ort, backend)
        .isEqualTo(Integer.parseInt(m.group(1)));
    assertThat(onnxRuntimeCudaMajor("1.22.0")).isEqualTo(12);
    assertThat(onnxRuntimeCudaMajor("1.18.0")).isEqualTo(11);
  }
}
