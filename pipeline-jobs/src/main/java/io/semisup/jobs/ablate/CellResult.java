package io.semisup.jobs.ablate;

/**
 * One cell measured with one seed.
 *
 * @param variant the cell
 * @param seed the seed of its run (labelled subset, teacher, student)
 * @param runId the pipeline run that produced it
 * @param top1 top-1 of the cell's model on the test split (reported, never chosen on)
 * @param teacherTop1 test top-1 of the teacher of the same seed
 * @param precision pseudo-label precision of the run (NaN when not measured)
 * @param seconds wall time of the cell's own stages (select to evaluate; shared stages excluded),
 *     plus every stage of its later rounds on the rounds axis
 * @param validationTop1 top-1 of the cell's model on the validation split, the figure cells are
 *     chosen on (NaN when the run has no validation split)
 * @param teacherValidationTop1 validation top-1 of the teacher of the same seed (NaN likewise)
 */
public record CellResult(
    Variant variant, long seed, String runId, double top1, double teacherTop1, double precision,
    double seconds, double validationTop1, double teacherValidationTop1) {

  /** A cell without validation figures (a run without a validation split). */
  public CellResult(Variant variant, long seed, String runId, double top1, double teacherTop1,
      double precision, double seconds) {
    this(variant, seed, runId, top1, teacherTop1, precision, seconds, Double.NaN, Double.NaN);
  }
}
