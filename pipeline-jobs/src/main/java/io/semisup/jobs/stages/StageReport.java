package io.semisup.jobs.stages;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a stage tells the world about its run: counts that must add up, metrics, and inputs. It is
 * written into the stage's {@code manifest.json}, which is also how a rerun of a committed stage
 * reports without recomputing.
 */
public final class StageReport {

  private final Map<String, Object> counts = new LinkedHashMap<>();
  private final Map<String, Object> details = new LinkedHashMap<>();

  /** A count of records (read, kept, rejected, ...). */
  public StageReport count(String name, long value) {
    counts.put(name, value);
    return this;
  }

  /** Anything else worth keeping: a metric, a model id, a class list. */
  public StageReport detail(String name, Object value) {
    details.put(name, value);
    return this;
  }

  public Map<String, Object> counts() {
    return counts;
  }

  public Map<String, Object> details() {
    return details;
  }

  public long countOf(String name) {
    Object v = counts.get(name);
    return v == null ? 0 : ((Number) v).longValue();
  }
}
