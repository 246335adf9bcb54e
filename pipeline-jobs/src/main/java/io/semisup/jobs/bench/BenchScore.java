package io.semisup.jobs.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder: `bench score` is being built (issue 5). */
@Command(name = "score", mixinStandardHelpOptions = true, description = "Not built yet (issue 5).")
public final class BenchScore implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("bench score: not built yet");
    return 2;
  }
}
