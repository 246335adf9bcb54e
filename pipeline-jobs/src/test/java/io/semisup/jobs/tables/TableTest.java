package io.semisup.jobs.tables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.apache.spark.sql.functions.col;

import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.stages.RunContext;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A table handle writes only what its schema declares (names, order, types, and no null where
 * the schema rules it out), naming the table and the field when a dataset does not fit, and reads
 * back with the declared schema from its stage's directory.
 */
class TableTest extends SparkTestBase {

  @TempDir static java.nio.file.Path root;

  private static final Table PSEUDO = Tables.PSEUDO_LABELS;

  private Dataset<Row> pseudoRows(StructType schema, Object... values) {
    return spark.createDataFrame(List.of(RowFactory.create(values)), schema);
  }

  private static StructType nullableCopy(StructType s) {
    StructType out = new StructType();
    for (var f : s.fields()) {
      out = out.add(f.name(), f.dataType(), true);
    }
    return out;
  }

  private org.apache.hadoop.fs.Path out(String name) {
    return new org.apache.hadoop.fs.Path(root.resolve(name).toUri());
  }

  @Test
  void aDatasetOfTheDeclaredSchemaIsWrittenAndReadBackFromItsStage() {
    RunContext ctx = context(root, "ok");
    PSEUDO.write(pseudoRows(PSEUDO.schema(), 3, "dress", 1, "id-1", 0.9f, "u/1.png"),
        ctx.stageDir(PSEUDO.stage()));
    Dataset<Row> back = PSEUDO.read(ctx);
    assertThat(back.columns()).containsExactly("class", "class_name", "rank", "image_id", "score", "uri");
    assertThat(back.first().getString(1)).isEqualTo("dress");
  }

  @Test
  void aRenamedFieldFailsNamingTheTableAndTheField() {
    StructType renamed = new StructType(Arrays.stream(PSEUDO.schema().fields())
        .map(f -> f.name().equals("score") ? f.copy("confidence", f.dataType(), f.nullable(), f.metadata()) : f)
        .toArray(org.apache.spark.sql.types.StructField[]::new));
    assertThatThrownBy(() -> PSEUDO.write(pseudoRows(renamed, 3, "dress", 1, "id-1", 0.9f, "u"), out("renamed")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("select/pseudo_labels")
        .hasMessageContaining("field confidence")
        .hasMessageContaining("declares score");
  }

  @Test
  void aWrongTypeFailsNamingTheTableAndTheField() {
    Dataset<Row> ds = pseudoRows(PSEUDO.schema(), 3, "dress", 1, "id-1", 0.9f, "u")
        .withColumn("rank", col("rank").cast("long"));
    assertThatThrownBy(() -> PSEUDO.write(ds, out("long-rank")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("select/pseudo_labels")
        .hasMessageContaining("field rank is bigint")
        .hasMessageContaining("declares int");
  }

  @Test
  void aMissingFieldFailsNamingIt() {
    Dataset<Row> ds = pseudoRows(PSEUDO.schema(), 3, "dress", 1, "id-1", 0.9f, "u").drop("uri");
    assertThatThrownBy(() -> PSEUDO.write(ds, out("no-uri")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("select/pseudo_labels")
        .hasMessageContaining("field uri is missing");
  }

  @Test
  void aNullInAFieldDeclaredNonNullFailsTheWriteNamingTheField() {
    // Spark cannot prove class_name non-null here (a nullable schema): the rows are checked.
    Dataset<Row> ds = pseudoRows(nullableCopy(PSEUDO.schema()), 3, null, 1, "id-1", 0.9f, "u");
    assertThatThrownBy(() -> PSEUDO.write(ds, out("null-name")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("Cannot write table select/pseudo_labels")
        .hasMessageContaining("field class_name is null");
    // The same nullable schema with values everywhere writes.
    PSEUDO.write(pseudoRows(nullableCopy(PSEUDO.schema()), 3, "dress", 1, "id-1", 0.9f, "u"), out("names"));
    assertThat(PSEUDO.readFrom(spark, out("names")).count()).isEqualTo(1);
  }

  @Test
  void aPartitionIsWrittenWithoutItsColumnAndReadBackWithIt() {
    RunContext ctx = context(root, "parts");
    Table images = Tables.IMAGES;
    StructType rowSchema = images.columns("image_id", "uri", "bytes", "width", "height", "format", "label", "label_name");
    org.apache.hadoop.fs.Path stage = ctx.stageDir(images.stage());
    images.writePartition(spark.createDataFrame(List.of(
        RowFactory.create("a", "u/a.png", new byte[] {1}, 1, 1, "png", 0, "shirt")), rowSchema),
        stage, Tables.TRAIN, SaveMode.ErrorIfExists);
    images.writePartition(spark.createDataFrame(List.of(
        RowFactory.create("b", "u/b.png", new byte[] {2}, 1, 1, "png", null, null)), rowSchema),
        stage, Tables.UNLABELLED, SaveMode.ErrorIfExists);
    Dataset<Row> back = images.read(ctx);
    assertThat(back.columns()).containsExactly(Arrays.stream(images.schema().fields()).map(f -> f.name()).toArray(String[]::new));
    assertThat(back.filter(col("split").equalTo(Tables.UNLABELLED)).select("image_id").first().getString(0)).isEqualTo("b");
    assertThat(images.partitionDir(ctx, Tables.TRAIN).toString()).endsWith("/parts/shard/images/split=train");
    // A partition's rows carry no partition column.
    assertThatThrownBy(() -> images.writePartition(back, stage, Tables.VAL, SaveMode.ErrorIfExists))
        .hasMessageContaining("shard/images")
        .hasMessageContaining("field split");
  }

  @Test
  void nestedNullabilityIsNotATypeDifference() {
    assertThat(Table.sameType(DataTypes.createArrayType(DataTypes.IntegerType, true),
        DataTypes.createArrayType(DataTypes.IntegerType, false))).isTrue();
    assertThat(Table.sameType(DataTypes.createArrayType(DataTypes.IntegerType, false),
        DataTypes.createArrayType(DataTypes.LongType, false))).isFalse();
  }
}
