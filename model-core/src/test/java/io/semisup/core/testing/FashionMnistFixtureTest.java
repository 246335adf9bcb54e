package io.semisup.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.data.FashionMnist;
import org.junit.jupiter.api.Test;

/** The checked-in fixture is what it says: the package's first training images and labels. */
class FashionMnistFixtureTest {

  @Test
  void holdsTheFirstTrainingImagesOfThePackage() {
    FashionMnist fixture = FashionMnistFixture.train();
    assertThat(fixture.size()).isEqualTo(FashionMnistFixture.SIZE);
    FashionMnist train = FashionMnist.load(Prerequisites.fashionMnist(), true);
    for (int i = 0; i < fixture.size(); i++) {
      assertThat(fixture.pixels(i)).as("image %d", i).isEqualTo(train.pixels(i));
      assertThat(fixture.label(i)).as("label %d", i).isEqualTo(train.label(i));
    }
  }
}
