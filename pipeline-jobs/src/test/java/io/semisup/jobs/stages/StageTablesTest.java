package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.jobs.tables.Table;
import io.semisup.jobs.tables.Tables;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The stages' declared tables fit the stage graph: each stage reads only tables of stages it
 * depends on (directly or through others), writes only tables that name it as their stage, and
 * every handle in {@link Tables} is written by exactly one stage. (That each handle's schema is
 * what its stage writes is checked on a real run by {@code PipelineEndToEndTest}.)
 */
class StageTablesTest {

  private final StageGraph graph = StageGraph.standard();

  private Set<String> upstream(Stage stage) {
    Set<String> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>(stage.dependsOn());
    while (!todo.isEmpty()) {
      String s = todo.pop();
      if (seen.add(s)) {
        todo.addAll(graph.get(s).dependsOn());
      }
    }
    return seen;
  }

  @Test
  void everyInputIsWrittenByAStageItDependsOn() {
    for (Stage s : graph.all()) {
      Set<String> upstream = upstream(s);
      for (Table t : s.inputs()) {
        assertThat(upstream).as("stage %s reads %s", s.name(), t).contains(t.stage());
        assertThat(graph.get(t.stage()).outputs()).as("stage %s reads %s", s.name(), t).contains(t);
      }
    }
  }

  @Test
  void everyOutputNamesItsStageAndEveryHandleHasExactlyOneWriter() {
    List<Table> written = new ArrayList<>();
    for (Stage s : graph.all()) {
      for (Table t : s.outputs()) {
        assertThat(t.stage()).as("%s written by %s", t, s.name()).isEqualTo(s.name());
        written.add(t);
      }
    }
    assertThat(written).containsExactlyInAnyOrderElementsOf(Tables.ALL);
  }

  @Test
  void tablesOfOneStageHaveDistinctNames() {
    for (Stage s : graph.all()) {
      assertThat(s.outputs().stream().map(Table::name)).as(s.name()).doesNotHaveDuplicates();
    }
  }
}
