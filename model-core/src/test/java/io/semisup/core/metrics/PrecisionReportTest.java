package io.semisup.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PrecisionReportTest {

  @Test
  void overallAndPerClass() {
    PrecisionReport r = new PrecisionReport(3);
    r.add(0, 0);
    r.add(0, 1);
    r.add(1, 1);
    r.add(1, 1);
    assertThat(r.overall()).isEqualTo(0.75);
    assertThat(r.precision(0)).isEqualTo(0.5);
    assertThat(r.precision(1)).isEqualTo(1.0);
    assertThat(r.precision(2)).isNaN();
    assertThat(r.assigned(1)).isEqualTo(2);
    assertThat(new PrecisionReport(2).overall()).isNaN();
  }

  @Test
  void mergeSumsCounts() {
    PrecisionReport a = new PrecisionReport(2);
    PrecisionReport b = new PrecisionReport(2);
    a.add(0, 0);
    b.add(0, 1);
    b.add(1, 1);
    a.merge(b);
    assertThat(a.assigned(0)).isEqualTo(2);
    assertThat(a.overall()).isEqualTo(2.0 / 3);
    assertThatThrownBy(() -> a.merge(new PrecisionReport(3))).hasMessageContaining("3 classes");
    assertThatThrownBy(() -> a.add(2, 0)).hasMessageStartingWith("Cannot use assigned class 2");
  }
}
