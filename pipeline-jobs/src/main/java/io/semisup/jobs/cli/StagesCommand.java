package io.semisup.jobs.cli;

import io.semisup.jobs.stages.RunContext;
import io.semisup.jobs.stages.Stage;
import io.semisup.jobs.stages.StageGraph;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Prints the stage graph (the Airflow DAG is checked against its JSON form). */
@Command(name = "stages", mixinStandardHelpOptions = true, description = "List the stages and their dependencies.")
final class StagesCommand implements Callable<Integer> {

  @Option(names = "--json", description = "Machine-readable: {\"stages\": [{name, depends_on, main_class}]}.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    List<Stage> stages = StageGraph.standard().all();
    if (json) {
      List<Map<String, Object>> list = new ArrayList<>();
      for (Stage s : stages) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("depends_on", s.dependsOn());
        m.put("main_class", s.getClass().getName());
        list.add(m);
      }
      System.out.println(RunContext.json().writeValueAsString(Map.of("stages", list)));
    } else {
      for (Stage s : stages) {
        System.out.printf("%-22s <- %-28s %s%n", s.name(), String.join(",", s.dependsOn()), s.description());
      }
    }
    return 0;
  }
}
