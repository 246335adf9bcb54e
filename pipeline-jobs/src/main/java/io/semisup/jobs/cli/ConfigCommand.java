package io.semisup.jobs.cli;

import io.semisup.core.UsageError;
import io.semisup.jobs.config.SettingsReference;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Prints the resolved configuration (every key, after all overrides, validated), checks it
 * ({@code --check}: for scripts, before submitting a job), or prints the reference table of every
 * key ({@code --markdown}: the README's configuration table is this output).
 */
@Command(name = "config", mixinStandardHelpOptions = true,
    description = "Print the resolved configuration, check it (--check) or print the key reference (--markdown).")
final class ConfigCommand implements Callable<Integer> {

  @Mixin RunOptions options;

  @Option(names = "--check",
      description = "Validate the configuration with every override and print ok (exit 0) or the error (exit 2).")
  boolean check;

  @Option(names = "--markdown",
      description = "Print the reference table of every key (type, default of conf/defaults.conf, accepted values, meaning).")
  boolean markdown;

  @Override
  public Integer call() {
    if (markdown) {
      System.out.print(SettingsReference.markdown());
      return 0;
    }
    if (check) {
      try {
        options.load();
      } catch (UsageError e) {
        System.err.println("semisup: " + e.getMessage());
        return 2;
      }
      System.out.println("ok");
      return 0;
    }
    System.out.println(options.load().render());
    return 0;
  }
}
