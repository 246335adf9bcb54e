package io.semisup.jobs.progress;

import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;

/**
 * Progress of a stage whose work is Spark jobs the driver cannot count itself (shard's decode
 * and hash pass, evaluate's scoring): the tasks of the Spark stages submitted while it is
 * attached, reported through one {@link ProgressReporter}. The total grows as Spark submits
 * stages, so the ETA covers the jobs submitted so far, which for these stages is the long one.
 */
public final class SparkTaskProgress extends SparkListener implements AutoCloseable {
  private final SparkContext sc;
  private final ProgressReporter reporter;
  private long total;
  private long done;

  private SparkTaskProgress(SparkContext sc, ProgressReporter reporter) {
    this.sc = sc;
    this.reporter = reporter;
  }

  /** Starts reporting the session's tasks under {@code label} until {@link #close()}. */
  public static SparkTaskProgress attach(SparkSession spark, String label, double logIntervalSeconds) {
    SparkTaskProgress p = new SparkTaskProgress(spark.sparkContext(),
        ProgressReporter.start(label, "Spark tasks", 0, logIntervalSeconds));
    spark.sparkContext().addSparkListener(p);
    return p;
  }

  @Override
  public synchronized void onStageSubmitted(SparkListenerStageSubmitted submitted) {
    total += submitted.stageInfo().numTasks();
    reporter.total(total);
  }

  @Override
  public synchronized void onTaskEnd(SparkListenerTaskEnd end) {
    done++;
    reporter.update(done);
  }

  /** Stops listening and prints the final line. */
  @Override
  public void close() {
    sc.removeSparkListener(this);
    reporter.finish();
  }
}
