package io.semisup.jobs.cli;

import com.typesafe.config.ConfigException;
import io.semisup.core.UsageError;
import java.io.PrintWriter;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Turns whatever a command throws into one line on stderr and an exit status a scheduler can act
 * on: {@value #USAGE} for a mistake the user can fix (a {@link UsageError}, a bad command-line
 * argument, a configuration value Typesafe Config rejects), {@value #FAILURE} for a job that
 * failed. The Airflow DAG fails a task on {@value #USAGE} at once instead of retrying a typo.
 *
 * <p>Why one line: the message already says what went wrong and how to fix it; picocli's default
 * buries it under a page of stack frames. The stack trace still goes to the log (logger
 * {@value #LOGGER} at ERROR: a file for {@code bin/semisup}, the container's log on YARN), and to
 * stderr with {@code --verbose} or {@code SEMISUP_VERBOSE=1}.
 */
final class FailureHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {

  /** Exit status of a usage or configuration error: do not retry. */
  static final int USAGE = CommandLine.ExitCode.USAGE;

  /** Exit status of a failed job: retrying may help. */
  static final int FAILURE = CommandLine.ExitCode.SOFTWARE;

  /** The global option that prints stack traces. */
  static final String VERBOSE_OPTION = "--verbose";

  /** The environment variable that does the same as {@code --verbose} (value 1 or true). */
  static final String VERBOSE_ENV = "SEMISUP_VERBOSE";

  /** Logger of every failure, with its stack trace; conf/log4j2.properties sends it to a file. */
  static final String LOGGER = "io.semisup.failures";

  private static final Logger log = LoggerFactory.getLogger(LOGGER);

  private final boolean verboseByEnvironment;

  FailureHandler(boolean verboseByEnvironment) {
    this.verboseByEnvironment = verboseByEnvironment;
  }

  /** Whether the environment asks for stack traces ({@code SEMISUP_VERBOSE=1} or {@code true}). */
  static boolean verboseEnvironment(String value) {
    return value != null && (value.equals("1") || value.equalsIgnoreCase("true"));
  }

  @Override
  public int handleExecutionException(Exception ex, CommandLine cli, ParseResult parsed) {
    Throwable usage = usageCause(ex);
    String command = cli.getCommandSpec().qualifiedName();
    String message = usage != null ? oneLine(describe(usage)) : firstLine(describe(ex));
    log.error("{} failed: {}", command, message, ex);
    PrintWriter err = cli.getErr();
    if (verboseByEnvironment || verboseOption(parsed)) {
      err.println("semisup: " + message);
      ex.printStackTrace(err);
    } else if (usage != null) {
      err.println("semisup: " + message);
    } else {
      err.println("semisup: " + message + " (run with " + VERBOSE_OPTION + " for the stack trace)");
    }
    err.flush();
    return usage != null ? USAGE : FAILURE;
  }

  @Override
  public int handleParseException(ParameterException ex, String[] args) {
    CommandLine cli = ex.getCommandLine();
    String command = cli.getCommandSpec().qualifiedName();
    StringBuilder line = new StringBuilder("semisup: ").append(sentence(oneLine(describe(ex))));
    if (ex instanceof UnmatchedArgumentException unmatched) {
      List<String> suggestions = unmatched.getSuggestions();
      if (!suggestions.isEmpty()) {
        line.append(" Did you mean ").append(String.join(" or ", suggestions)).append('?');
      }
    }
    line.append(" See '").append(command).append(" --help'.");
    log.error("{} rejected its arguments: {}", command, ex.getMessage());
    PrintWriter err = cli.getErr();
    err.println(line);
    err.flush();
    return USAGE;
  }

  /**
   * The exception, or one of its causes, that says the user can fix this: stages and Spark wrap
   * what they catch, so a {@link UsageError} may arrive as the cause of another exception.
   */
  static Throwable usageCause(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof UsageError || c instanceof ParameterException || c instanceof ConfigException) {
        return c;
      }
    }
    return null;
  }

  private static boolean verboseOption(ParseResult parsed) {
    for (ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption(VERBOSE_OPTION)) {
        return true;
      }
    }
    return false;
  }

  private static String describe(Throwable t) {
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getName() : m.strip();
  }

  /** A usage message is written to be read whole: its lines joined. */
  private static String oneLine(String message) {
    return message.replaceAll("\\s*\\R\\s*", " ");
  }

  /** picocli's messages lack a full stop; a hint follows them on the same line. */
  private static String sentence(String message) {
    return message.matches(".*[.!?:]$") ? message : message + ".";
  }

  /** A job failure's message may carry a remote stack trace (Spark's do): its first line only. */
  private static String firstLine(String message) {
    int nl = message.indexOf('\n');
    return (nl < 0 ? message : message.substring(0, nl)).strip();
  }
}
