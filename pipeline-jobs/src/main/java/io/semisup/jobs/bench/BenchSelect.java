package io.semisup.jobs.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder: `bench select` is being built (issue 5). */
@Command(name = "select", mixinStandardHelpOptions = true, description = "Not built yet (issue 5).")
public final class BenchSelect implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("bench select: not built yet");
    return 2;
  }
}
