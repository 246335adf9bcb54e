package io.semisup.jobs.cli;

import io.semisup.jobs.config.SemisupConfig;
import picocli.CommandLine;

/** Parses command-line options the way every command does, for tests in other packages. */
public final class RunOptionsAccess {

  private RunOptionsAccess() {}

  public static SemisupConfig load(String... args) {
    return CommandLine.populateCommand(new RunOptions(), args).load();
  }
}
