package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.UsageError;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.tables.Tables;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The two ways a validation split is carved: the import's draw out of the unlabelled pool, and
 * shard's seeded share of each class's labelled images. Both take images out of what trains,
 * never share one with another split, and give the same split for the same seed.
 */
class ValidationSplitTest extends SparkTestBase {

  @Test
  void importDrawLeavesThePoolAndIsSeeded() {
    List<Integer> pool = new ArrayList<>(IntStream.range(0, 1000).boxed().toList());
    List<Integer> validation = ImportFashionMnistStage.carveValidation(pool, 100, 42);
    assertThat(validation).hasSize(100).isSorted().doesNotHaveDuplicates();
    assertThat(pool).hasSize(900).doesNotContainAnyElementsOf(validation);

    List<Integer> again = ImportFashionMnistStage.carveValidation(new ArrayList<>(IntStream.range(0, 1000).boxed().toList()), 100, 42);
    List<Integer> otherSeed = ImportFashionMnistStage.carveValidation(new ArrayList<>(IntStream.range(0, 1000).boxed().toList()), 100, 1);
    assertThat(again).isEqualTo(validation);
    assertThat(otherSeed).isNotEqualTo(validation);

    assertThat(ImportFashionMnistStage.carveValidation(new ArrayList<>(List.of(1, 2)), 0, 42)).isEmpty();
    assertThatThrownBy(() -> ImportFashionMnistStage.carveValidation(new ArrayList<>(List.of(1, 2)), 3, 42))
        .isInstanceOf(UsageError.class).hasMessageContaining("data.validation-size");
  }

  private static final StructType ROWS = new StructType()
      .add("image_id", DataTypes.StringType, false)
      .add("split", DataTypes.StringType, false)
      .add("label", DataTypes.IntegerType, true);

  /** 3 classes of 20 labelled images, a class of 2, 10 test and 10 unlabelled images. */
  private Dataset<Row> images() {
    List<Row> rows = new ArrayList<>();
    for (int c = 0; c < 3; c++) {
      for (int i = 0; i < 20; i++) {
        rows.add(RowFactory.create("train-" + c + "-" + i, Tables.TRAIN, c));
      }
    }
    rows.add(RowFactory.create("train-3-0", Tables.TRAIN, 3));
    rows.add(RowFactory.create("train-3-1", Tables.TRAIN, 3));
    for (int i = 0; i < 10; i++) {
      rows.add(RowFactory.create("val-" + i, Tables.VAL, i % 3));
      rows.add(RowFactory.create("pool-" + i, Tables.UNLABELLED, null));
    }
    return spark.createDataFrame(rows, ROWS);
  }

  private static Set<String> ids(Dataset<Row> d, String split) {
    return d.filter(d.col("split").equalTo(split)).select("image_id").collectAsList().stream()
        .map(r -> r.getString(0)).collect(Collectors.toSet());
  }

  @Test
  void shardCarvesAShareOfEachClassOutOfTraining() {
    Dataset<Row> carved = ShardStage.carveValidation(images(), 0.25, 42);
    Set<String> validation = ids(carved, Tables.VALIDATION);
    Set<String> train = ids(carved, Tables.TRAIN);
    // round(0.25 x 20) = 5 of each full class; the class of 2 keeps at least one for training.
    Map<String, Long> perClass = validation.stream()
        .collect(Collectors.groupingBy(id -> id.split("-")[1], Collectors.counting()));
    assertThat(perClass).isEqualTo(Map.of("0", 5L, "1", 5L, "2", 5L, "3", 1L));
    assertThat(train).hasSize(62 - 16).doesNotContainAnyElementsOf(validation);
    assertThat(ids(carved, Tables.VAL)).hasSize(10);
    assertThat(ids(carved, Tables.UNLABELLED)).hasSize(10);
    Set<String> all = new HashSet<>(train);
    all.addAll(validation);
    assertThat(all).hasSize(62);

    assertThat(ids(ShardStage.carveValidation(images(), 0.25, 42), Tables.VALIDATION)).isEqualTo(validation);
    assertThat(ids(ShardStage.carveValidation(images(), 0.25, 7), Tables.VALIDATION)).isNotEqualTo(validation);
    assertThat(ids(ShardStage.carveValidation(images(), 0, 42), Tables.VALIDATION)).isEmpty();
  }
}
