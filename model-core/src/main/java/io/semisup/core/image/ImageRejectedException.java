package io.semisup.core.image;

/**
 * Signals that input bytes are not a usable image. Rejects are an expected outcome on web-scale
 * data, so this is checked (callers must decide: count, log, skip) and carries a
 * {@link RejectReason} to aggregate on. No stack trace is captured for the exception itself (the
 * cause, if any, keeps its own): rejects are data, not bugs, and may be frequent.
 */
public final class ImageRejectedException extends Exception {
  private static final long serialVersionUID = 1L;

  private final RejectReason reason;
  private final String detail;

  public ImageRejectedException(RejectReason reason, String detail) {
    this(reason, detail, null);
  }

  public ImageRejectedException(RejectReason reason, String detail, Throwable cause) {
    super(message(reason, detail), cause, true, false);
    this.reason = reason;
    this.detail = detail;
  }

  private static String message(RejectReason reason, String detail) {
    return "Cannot decode image: " + reason.text()
        + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")") + ". " + reason.fix();
  }

  public RejectReason reason() {
    return reason;
  }

  /** The specific observation behind the reason, e.g. the decoder's message; may be empty. */
  public String detail() {
    return detail == null ? "" : detail;
  }
}
