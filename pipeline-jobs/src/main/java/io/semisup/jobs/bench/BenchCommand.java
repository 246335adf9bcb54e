package io.semisup.jobs.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code bin/semisup bench <what>}: the benchmarks of the data path. Each measures its baseline in
 * the same run (machines here are noisy, so only ratios measured side by side mean anything) and
 * prints one JSON object as its last line, for scripts and docs/benchmarks.md.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Benchmarks with a baseline measured in the same run; the last line is one JSON object.",
      "See docs/benchmarks.md for the commands and the numbers measured so far."
    },
    subcommands = {BenchSelect.class, BenchScore.class, BenchShard.class, BenchTrain.class, BenchMkd.class,
        BenchEnorm.class, BenchFixres.class, BenchAudit.class, BenchDecode.class, BenchDedup.class})
public final class BenchCommand implements Runnable {

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }
}
