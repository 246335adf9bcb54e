package io.semisup.core;

/**
 * A mistake the user can fix without changing code: a bad setting, an unknown key, a missing input
 * file or package, a run that does not exist.
 *
 * <p>The command line prints its message as one line ({@code semisup: <message>}) and exits with
 * status 2, so that schedulers (the Airflow DAG, {@code deploy/yarn/submit.sh}) can tell it from
 * a job failure (status 1) and do not retry it. The message says what went wrong, why, and how to
 * fix it, naming the key or file.
 */
public class UsageError extends RuntimeException {

  public UsageError(String message) {
    super(message);
  }

  public UsageError(String message, Throwable cause) {
    super(message, cause);
  }
}
