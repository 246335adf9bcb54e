package io.semisup.jobs.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semisup.jobs.stages.RunContext;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Gives a notebook its parameters as papermill does, without papermill (not packaged for
 * Debian): a cell tagged {@code injected-parameters}, inserted after the cell tagged {@code
 * parameters}, assigns the values.
 */
public final class NotebookParameters {

  private NotebookParameters() {}

  /** Writes {@code out}: {@code notebook} with the values injected (strings quoted, others as written). */
  public static Path inject(Path notebook, Map<String, Object> values, Path out) throws IOException {
    ObjectNode nb = (ObjectNode) RunContext.json().readTree(notebook.toFile());
    ArrayNode cells = (ArrayNode) nb.get("cells");
    int at = -1;
    for (int i = 0; i < cells.size(); i++) {
      for (JsonNode tag : cells.get(i).path("metadata").path("tags")) {
        if (tag.asText().equals("parameters")) {
          at = i;
        }
      }
    }
    assertThat(at).as("a cell tagged parameters in %s", notebook).isNotNegative();
    StringBuilder source = new StringBuilder("# Parameters\n");
    for (Map.Entry<String, Object> e : new java.util.TreeMap<>(values).entrySet()) {
      Object v = e.getValue();
      source.append(e.getKey()).append(" = ").append(v instanceof String s ? RunContext.json().writeValueAsString(s) : v).append('\n');
    }
    ObjectNode cell = RunContext.json().createObjectNode();
    cell.put("cell_type", "code").put("id", "injected-parameters").putNull("execution_count");
    cell.putObject("metadata").putArray("tags").add("injected-parameters");
    cell.putArray("outputs");
    cell.put("source", source.toString());
    cells.insert(at + 1, cell);
    RunContext.json().writeValue(out.toFile(), nb);
    return out;
  }
}
