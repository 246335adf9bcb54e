package io.semisup.jobs.stages;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;

/** The run's class list (index = label), fixed once by shard from the training folders. */
final class Classes {

  private Classes() {}

  static List<String> of(RunContext ctx) {
    Path file = new Path(ctx.stageDir(ShardStage.NAME), ShardStage.CLASSES);
    try {
      JsonNode node = RunContext.json().readTree(ctx.readBytes(file)).get("classes");
      List<String> names = new ArrayList<>();
      node.forEach(n -> names.add(n.asText()));
      return names;
    } catch (java.io.IOException e) {
      throw new IllegalStateException("Cannot read class list " + file + ": " + e.getMessage(), e);
    }
  }
}
