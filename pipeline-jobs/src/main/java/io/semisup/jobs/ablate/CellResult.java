package io.semisup.jobs.ablate;

/**
 * One cell measured with one seed.
 *
 * @param variant the cell
 * @param seed the seed of its run (labelled subset, teacher, student)
 * @param runId the pipeline run that produced it
 * @param top1 top-1 of the cell's model on the evaluation split
 * @param teacherTop1 top-1 of the teacher of the same seed
 * @param precision pseudo-label precision of the run (NaN when not measured)
 * @param seconds wall time of the cell's own stages (select to evaluate; shared stages excluded)
 */
public record CellResult(
    Variant variant, long seed, String runId, double top1, double teacherTop1, double precision,
    double seconds) {}
