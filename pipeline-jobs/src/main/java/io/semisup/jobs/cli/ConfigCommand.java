package io.semisup.jobs.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** Prints the resolved configuration: every key, after all overrides, validated. */
@Command(name = "config", mixinStandardHelpOptions = true, description = "Print the resolved configuration.")
final class ConfigCommand implements Callable<Integer> {

  @Mixin RunOptions options;

  @Override
  public Integer call() {
    System.out.println(options.load().render());
    return 0;
  }
}
