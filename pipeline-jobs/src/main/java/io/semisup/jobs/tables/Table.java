package io.semisup.jobs.tables;

import static org.apache.spark.sql.functions.col;

import io.semisup.jobs.stages.RunContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A Parquet table of a run, as its producing stage declares it: the stage, the table's directory
 * name inside the stage's output, its schema and what it holds. Stages write through the handle,
 * which checks the dataset against the declared schema, and read through it, with the declared
 * schema, from the producing stage's committed directory ({@link RunContext#stageDir}, so a table
 * of a base run's shared stage is found where it is). No reader finds a table by a path string,
 * so the schema a reader sees is the one the writer was held to.
 *
 * <p>A table may be partitioned by one column (the last of the schema, as Spark reads partition
 * columns back): its rows live under {@code <name>/<column>=<value>/}.
 */
public final class Table {

  private static final String NULL_FIX = "Fix the stage that computes it.";

  private final String stage;
  private final String name;
  private final StructType schema;
  private final String partitionColumn;
  private final String doc;

  private Table(String stage, String name, StructType schema, String partitionColumn, String doc) {
    this.stage = Objects.requireNonNull(stage);
    this.name = Objects.requireNonNull(name);
    this.schema = Objects.requireNonNull(schema);
    this.partitionColumn = partitionColumn;
    this.doc = Objects.requireNonNull(doc);
    if (partitionColumn != null) {
      StructField[] f = schema.fields();
      if (f.length == 0 || !f[f.length - 1].name().equals(partitionColumn)) {
        throw new IllegalArgumentException("Cannot declare table " + this + " partitioned by "
            + partitionColumn + ": the partition column must be the schema's last field.");
      }
    }
  }

  /** An unpartitioned table {@code <stage>/<name>/}. */
  public static Table of(String stage, String name, StructType schema, String doc) {
    return new Table(stage, name, schema, null, doc);
  }

  /** A table stored as {@code <stage>/<name>/<column>=<value>/}; {@code column} is the last field. */
  public static Table partitioned(String stage, String name, StructType schema, String column, String doc) {
    return new Table(stage, name, schema, Objects.requireNonNull(column), doc);
  }

  /** The stage that writes this table. */
  public String stage() {
    return stage;
  }

  /** The table's directory name inside its stage's output. */
  public String name() {
    return name;
  }

  /** The declared schema, partition column included (last). */
  public StructType schema() {
    return schema;
  }

  /** The partition column, or null. */
  public String partitionColumn() {
    return partitionColumn;
  }

  /** One line on what the table holds. */
  public String doc() {
    return doc;
  }

  /** The declared fields {@code names}, in that order: the columns a reader projects. */
  public StructType columns(String... names) {
    return new StructType(Arrays.stream(names).map(schema::apply).toArray(StructField[]::new));
  }

  /** The table's committed directory in {@code ctx}'s run (in the base run if its stage is shared). */
  public Path dir(RunContext ctx) {
    return new Path(ctx.stageDir(stage), name);
  }

  /** The committed directory of one partition, {@code <dir>/<column>=<value>}. */
  public Path partitionDir(RunContext ctx, String value) {
    return new Path(dir(ctx), partitionPart(value));
  }

  /** The committed table, read with the declared schema (no schema inference job). */
  public Dataset<Row> read(RunContext ctx) {
    return readFrom(ctx.spark(), ctx.stageDir(stage));
  }

  /**
   * The table as written under {@code stageOut}, a directory standing for its stage's output
   * (the stage's own staging directory, or a group of score's resumable commits).
   */
  public Dataset<Row> readFrom(SparkSession spark, Path stageOut) {
    return spark.read().schema(schema).parquet(new Path(stageOut, name).toString());
  }

  /** Whether the producing stage wrote this table in {@code ctx}'s run (for optional tables). */
  public boolean exists(RunContext ctx) {
    try {
      return ctx.fs().exists(dir(ctx));
    } catch (java.io.IOException e) {
      throw new IllegalStateException("Cannot check table " + this + " at " + dir(ctx) + ": "
          + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code ds} as this table under {@code stageOut} (the stage's staging directory, or any
   * directory standing for it), after checking its schema against the declared one (see
   * {@link #conform}). A partitioned table is written with Spark's {@code partitionBy}.
   */
  public void write(Dataset<Row> ds, Path stageOut) {
    Dataset<Row> checked = conform(ds, schema);
    String target = new Path(stageOut, name).toString();
    try {
      if (partitionColumn == null) {
        checked.write().parquet(target);
      } else {
        checked.write().partitionBy(partitionColumn).parquet(target);
      }
    } catch (RuntimeException e) {
      throw explained(e);
    }
  }

  /**
   * Writes {@code ds}, the rows of one partition without the partition column, as partition
   * {@code value} of this table under {@code stageOut}, checked like {@link #write}.
   */
  public void writePartition(Dataset<Row> ds, Path stageOut, String value, SaveMode mode) {
    if (partitionColumn == null) {
      throw new IllegalStateException("Cannot write partition " + value + " of table " + this
          + ": the table is not partitioned. Use write().");
    }
    StructType withoutPartition =
        new StructType(Arrays.copyOf(schema.fields(), schema.fields().length - 1));
    Dataset<Row> checked = conform(ds, withoutPartition);
    try {
      checked.write().mode(mode)
          .parquet(new Path(new Path(stageOut, name), partitionPart(value)).toString());
    } catch (RuntimeException e) {
      throw explained(e);
    }
  }

  /**
   * {@code ds} checked against {@code expected}: the same field names in the same order and the
   * same types, nested nullability aside (else an {@link IllegalStateException} naming the table
   * and the field). A field the dataset may hold null in is accepted for a nullable declared
   * field; for a field declared non-null that Spark cannot prove non-null (a join, a read of
   * Parquet) the rows are checked as they are written, and a null fails the write naming the
   * table and the field, so a table never holds a null its schema rules out.
   */
  Dataset<Row> conform(Dataset<Row> ds, StructType expected) {
    StructField[] got = ds.schema().fields();
    StructField[] want = expected.fields();
    for (int i = 0; i < Math.max(got.length, want.length); i++) {
      if (i >= got.length) {
        throw new IllegalStateException("Cannot write table " + this + ": field " + want[i].name()
            + " is missing (the dataset has " + names(got) + ", the table declares "
            + names(want) + "). Select the declared columns in Tables' order.");
      }
      if (i >= want.length || !got[i].name().equals(want[i].name())) {
        throw new IllegalStateException("Cannot write table " + this + ": field " + got[i].name()
            + " is at position " + i + " where the table declares "
            + (i >= want.length ? "no field" : want[i].name()) + " (the dataset has " + names(got)
            + ", the table declares " + names(want) + "). Select the declared columns in"
            + " Tables' order, or change the schema in Tables.");
      }
      if (!sameType(got[i].dataType(), want[i].dataType())) {
        throw new IllegalStateException("Cannot write table " + this + ": field " + got[i].name()
            + " is " + got[i].dataType().simpleString() + ", the table declares "
            + want[i].dataType().simpleString() + ". Cast it, or change the schema in Tables.");
      }
    }
    List<Column> columns = new ArrayList<>();
    boolean guarded = false;
    for (int i = 0; i < want.length; i++) {
      Column c = col(want[i].name());
      if (!want[i].nullable() && got[i].nullable()) {
        c = functions.when(c.isNull(), functions.raise_error(functions.lit(nullMarker()
                + want[i].name() + " is null in a row, but the table declares it non-null. "
                + NULL_FIX)))
            .otherwise(c).as(want[i].name());
        guarded = true;
      }
      columns.add(c);
    }
    return guarded ? ds.select(columns.toArray(new Column[0])) : ds;
  }

  /**
   * A write that failed on a null the guard of {@link #conform} caught, as the one-line
   * IllegalStateException that guard says (Spark wraps it in task and job failures); any other
   * failure as it is.
   */
  private RuntimeException explained(RuntimeException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage();
      int from = m == null ? -1 : m.indexOf(nullMarker());
      if (from >= 0) {
        int to = m.indexOf(NULL_FIX, from);
        return new IllegalStateException(
            to < 0 ? m.substring(from) : m.substring(from, to + NULL_FIX.length()), e);
      }
    }
    return e;
  }

  private String nullMarker() {
    return "Cannot write table " + this + ": field ";
  }

  /** Equal types, ignoring the nullability of array elements, map values and nested fields. */
  static boolean sameType(DataType a, DataType b) {
    if (a instanceof ArrayType x && b instanceof ArrayType y) {
      return sameType(x.elementType(), y.elementType());
    }
    if (a instanceof MapType x && b instanceof MapType y) {
      return sameType(x.keyType(), y.keyType()) && sameType(x.valueType(), y.valueType());
    }
    if (a instanceof StructType x && b instanceof StructType y) {
      StructField[] f = x.fields();
      StructField[] g = y.fields();
      if (f.length != g.length) {
        return false;
      }
      for (int i = 0; i < f.length; i++) {
        if (!f[i].name().equals(g[i].name()) || !sameType(f[i].dataType(), g[i].dataType())) {
          return false;
        }
      }
      return true;
    }
    return a.equals(b);
  }

  private String partitionPart(String value) {
    if (partitionColumn == null) {
      throw new IllegalStateException("Cannot address a partition of table " + this
          + ": the table is not partitioned.");
    }
    return partitionColumn + "=" + value;
  }

  private static List<String> names(StructField[] fields) {
    return Arrays.stream(fields).map(StructField::name).toList();
  }

  /** {@code <stage>/<name>}, as the table is named in messages and docs. */
  @Override
  public String toString() {
    return stage + "/" + name;
  }
}
