package io.semisup.jobs.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder: `bench shard` is being built (issue 5). */
@Command(name = "shard", mixinStandardHelpOptions = true, description = "Not built yet (issue 5).")
public final class BenchShard implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("bench shard: not built yet");
    return 2;
  }
}
