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
 * @param ownTeacherTop1 test top-1 of the teacher the cell trains itself (a teacher recipe of its
 *     own, e.g. {@code teacher.epochs=200}), NaN when the cell's teacher is the seed's base teacher.
 *     The cell's gain is measured from it: a stronger recipe must raise the baseline too, or the
 *     teacher's own gain would be counted as self-training's.
 */
public record CellResult(
    Variant variant, long seed, String runId, double top1, double teacherTop1, double precision,
    double seconds, double validationTop1, double teacherValidationTop1, double ownTeacherTop1) {

  /** A cell taught by the seed's base teacher. */
  public CellResult(Variant variant, long seed, String runId, double top1, double teacherTop1,
      double precision, double seconds, double validationTop1, double teacherValidationTop1) {
    this(variant, seed, runId, top1, teacherTop1, precision, seconds, validationTop1, teacherValidationTop1,
        Double.NaN);
  }

  /** A cell without validation figures (a run without a validation split). */
  public CellResult(Variant variant, long seed, String runId, double top1, double teacherTop1,
      double precision, double seconds) {
    this(variant, seed, runId, top1, teacherTop1, precision, seconds, Double.NaN, Double.NaN);
  }
}
