package io.semisup.jobs.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder: `bench train` is being built (issue 5). */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Not built yet (issue 5).")
public final class BenchTrain implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("bench train: not built yet");
    return 2;
  }
}
