package io.semisup.core.mkd;

/**
 * A detected local feature: centre in pixels, radius (the detector's scale, in pixels) and
 * orientation (radians, x right, y down), which fix the square a 32x32 patch is sampled from.
 */
public record Keypoint(double x, double y, double radius, double orientation) {}
