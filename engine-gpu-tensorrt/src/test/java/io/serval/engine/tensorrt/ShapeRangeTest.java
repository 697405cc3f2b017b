package io.serval.engine.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ShapeRangeTest {
  @Test
  void parsesMinOptMaxShapes() {
    ShapeRange range = ShapeRange.parse("x", " 1x3x48x32 , 4x3x48x192,8x3x48x960 ");

    assertThat(range.min()).containsExactly(1, 3, 48, 32);
    assertThat(range.opt()).containsExactly(4, 3, 48, 192);
    assertThat(range.max()).containsExactly(8, 3, 48, 960);
    assertThat(range.canonical()).isEqualTo("x:1x3x48x32/4x3x48x192/8x3x48x960");
    assertThat(range).hasToString("x min [1,3,48,32] opt [4,3,48,192] max [8,3,48,960]");
  }

  @Test
  void containsOnlyShapesOfItsRankWithinMinAndMax() {
    ShapeRange range = ShapeRange.parse("x", "1x3x32,4x3x64,8x3x128");

    assertThat(range.contains(new long[] {1, 3, 32})).isTrue();
    assertThat(range.contains(new long[] {8, 3, 128})).isTrue();
    assertThat(range.contains(new long[] {9, 3, 64})).isFalse();
    assertThat(range.contains(new long[] {2, 3, 16})).isFalse();
    assertThat(range.contains(new long[] {2, 3})).isFalse();
  }

  @Test
  void rejectsShapesOfDifferentRanks() {
    assertThatThrownBy(() -> ShapeRange.parse("x", "1x3,4x3x8,8x3"))
        .hasMessage("input 'x': min [1,3], opt [4,3,8] and max [8,3] differ in rank (expected: one rank)");
  }

  @Test
  void rejectsWhatIsNotAShape() {
    assertThatThrownBy(() -> ShapeRange.parse("x", "1x3,4*3,8x3"))
        .hasMessage("'1x3,4*3,8x3': '4*3' is not a shape (expected: dimensions joined by 'x', such as 1x3x224x224)");
    assertThatThrownBy(() -> ShapeRange.parse("x", "1x-3,1x-3,1x-3"))
        .hasMessageContaining("dimension 1 is -3, -3, -3 in min, opt and max");
  }
}
