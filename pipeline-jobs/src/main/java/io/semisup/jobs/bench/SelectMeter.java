package io.semisup.jobs.bench;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.JavaConverters;

/**
 * Adds up Spark's task metrics (shuffle bytes written, bytes sent to the driver, spills) per job
 * group, so a benchmark can say what each method it times moved, and logs progress while they
 * run. Listener events arrive asynchronously: {@link #totals} waits until every job of the
 * group has been seen ending.
 */
public final class SelectMeter extends SparkListener {

  private static final Logger log = LoggerFactory.getLogger(SelectMeter.class);
  private static final String GROUP = "spark.jobGroup.id";

  /** What one job group's tasks did, summed. */
  public record Totals(long shuffleBytes, long shuffleRecords, long resultBytes, long spillBytes, long tasks) {}

  private final Map<Integer, String> stageGroup = new ConcurrentHashMap<>();
  private final Set<Integer> endedJobs = ConcurrentHashMap.newKeySet();
  private final Map<String, long[]> sums = new ConcurrentHashMap<>();

  @Override
  public void onJobStart(SparkListenerJobStart e) {
    String group = e.properties() == null ? null : e.properties().getProperty(GROUP);
    if (group == null) {
      return;
    }
    for (Object id : JavaConverters.seqAsJavaList(e.stageIds())) {
      stageGroup.put((Integer) id, group);
    }
  }

  @Override
  public void onJobEnd(SparkListenerJobEnd e) {
    endedJobs.add(e.jobId());
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd e) {
    String group = stageGroup.get(e.stageId());
    TaskMetrics m = e.taskMetrics();
    if (group == null || m == null) {
      return;
    }
    long[] s = sums.computeIfAbsent(group, g -> new long[5]);
    synchronized (s) {
      s[0] += m.shuffleWriteMetrics().bytesWritten();
      s[1] += m.shuffleWriteMetrics().recordsWritten();
      s[2] += m.resultSize();
      s[3] += m.diskBytesSpilled();
      s[4] += 1;
    }
  }

  /**
   * Logs every {@code everySeconds} the progress of the running stages (tasks done of all) and
   * the shuffle bytes written so far, until closed.
   */
  public AutoCloseable progress(SparkContext sc, String label, int everySeconds) {
    long t0 = System.nanoTime();
    ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "bench-select-progress");
      t.setDaemon(true);
      return t;
    });
    ticker.scheduleAtFixedRate(() -> {
      StringBuilder stages = new StringBuilder();
      for (int id : sc.statusTracker().getActiveStageIds()) {
        SparkStageInfo info = sc.statusTracker().getStageInfo(id).getOrElse(() -> null);
        if (info != null) {
          stages.append(String.format(" stage %d: %d/%d tasks done (%d running);", id,
              info.numCompletedTasks(), info.numTasks(), info.numActiveTasks()));
        }
      }
      long[] s = sums.getOrDefault(label, new long[5]);
      log.info("[bench select] {} running for {} s;{} {} MB shuffled so far", label,
          (System.nanoTime() - t0) / 1_000_000_000L, stages, s[0] >> 20);
    }, everySeconds, everySeconds, TimeUnit.SECONDS);
    return ticker::shutdownNow;
  }

  /** The group's totals once the listener has seen all its jobs end (waits up to a minute). */
  public Totals totals(SparkContext sc, String group) throws InterruptedException {
    int[] jobs = sc.statusTracker().getJobIdsForGroup(group);
    long deadline = System.nanoTime() + 60_000_000_000L;
    for (int job : jobs) {
      while (!endedJobs.contains(job)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "Cannot measure job group " + group + ": Spark's listener bus did not report the end of job "
                  + job + " within a minute");
        }
        Thread.sleep(20);
      }
    }
    long[] s = sums.getOrDefault(group, new long[5]);
    synchronized (s) {
      return new Totals(s[0], s[1], s[2], s[3], s[4]);
    }
  }
}
