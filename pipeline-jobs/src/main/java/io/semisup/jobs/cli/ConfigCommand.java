package io.semisup.jobs.cli;

import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.semisup.core.UsageError;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.config.SettingsReference;
import io.semisup.jobs.config.SettingsSchema;
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

  @Option(names = "--get", paramLabel = "KEY",
      description = "Print one key's resolved value (after the preset and every override), e.g. --get rounds; with --check"
          + " it is printed instead of ok (the Airflow DAG reads rounds so).")
  String get;

  @Option(names = "--markdown",
      description = "Print the reference table of every key (type, default of conf/defaults.conf, accepted values, meaning).")
  boolean markdown;

  @Override
  public Integer call() {
    if (markdown) {
      System.out.print(SettingsReference.markdown());
      return 0;
    }
    if (get != null && !SettingsSchema.isKnown(get)) {
      throw new UsageError("Cannot print --get " + get + ": not a key of conf/defaults.conf."
          + " See `bin/semisup config --markdown` for every key.");
    }
    if (check) {
      SemisupConfig config;
      try {
        config = options.load();
      } catch (UsageError e) {
        System.err.println("semisup: " + e.getMessage());
        return 2;
      }
      System.out.println(get == null ? "ok" : value(config, get));
      return 0;
    }
    SemisupConfig config = options.load();
    System.out.println(get == null ? config.render() : value(config, get));
    return 0;
  }

  /** A key's resolved value as a script reads it: strings unquoted, lists and numbers as HOCON. */
  private static String value(SemisupConfig config, String key) {
    ConfigValue v = config.raw().getValue(key);
    return v.valueType() == ConfigValueType.STRING ? (String) v.unwrapped() : v.render(ConfigRenderOptions.concise());
  }
}
