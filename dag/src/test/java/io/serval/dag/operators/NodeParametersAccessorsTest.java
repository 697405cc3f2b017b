package io.serval.dag.operators;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.serval.dag.NodeParameters;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The typed accessors the built-in operators read their params with, and the messages they fail with. */
class NodeParametersAccessorsTest {
  private final NodeParameters params = new NodeParameters(Map.of("k", 3, "big", 5_000_000_000L, "huge",
      new BigInteger("100000000000000000000"), "half", 0.5, "list", List.of(1, 2.5), "text", "x", "names",
      List.of("a", "b")));

  @Test
  void readsIntegersInTheirRangeOnly() {
    assertThat(params.integer("k", 1, 5)).isEqualTo(3);
    assertThat(params.integer("absent", 7, 1, 10)).isEqualTo(7);
    assertThatThrownBy(() -> params.integer("k", 4, 5)).hasMessage("params.k: is 3 (expected: an integer from 4 to"
        + " 5)");
    assertThatThrownBy(() -> params.integer("big", 1, Integer.MAX_VALUE))
        .hasMessage("params.big: is 5000000000 (expected: an integer >= 1)");
    assertThatThrownBy(() -> params.integer("huge", 1, 10)).hasMessage("params.huge: is 100000000000000000000"
        + " (expected: an integer from 1 to 10)");
    assertThatThrownBy(() -> params.integer("half", 1, 10)).hasMessage("params.half: is 0.5 (expected: an integer"
        + " from 1 to 10)");
    assertThatThrownBy(() -> params.integer("absent", 1, 10)).hasMessage("params.absent: missing (expected: an"
        + " integer from 1 to 10)");
  }

  @Test
  void readsNumbersListsStringsAndChoices() {
    assertThat(params.number("half")).isEqualTo(0.5);
    assertThat(params.number("k", 9)).isEqualTo(3);
    assertThat(params.number("absent", 9)).isEqualTo(9);
    assertThatThrownBy(() -> params.number("text")).hasMessage("params.text: is x (expected: a number)");
    assertThat(params.numbers("list", new double[] {0})).containsExactly(1, 2.5);
    assertThat(params.numbers("half", new double[] {0})).containsExactly(0.5);
    assertThat(params.numbers("absent", new double[] {4})).containsExactly(4);
    assertThatThrownBy(() -> params.numbers("names", new double[0])).hasMessage("params.names: is [a, b] (expected:"
        + " a list of numbers)");
    assertThat(params.strings("names")).containsExactly("a", "b");
    assertThat(params.strings("absent")).isNull();
    assertThatThrownBy(() -> params.strings("list")).hasMessage("params.list: is [1, 2.5] (expected: a list of"
        + " strings; quote numbers and booleans)");
    assertThat(params.choice("text", "y", List.of("x", "y"))).isEqualTo("x");
    assertThat(params.choice("absent", "y", List.of("x", "y"))).isEqualTo("y");
    assertThatThrownBy(() -> params.choice("text", "a", List.of("a", "b"))).hasMessage("params.text: is x"
        + " (expected one of: a, b)");
  }
}
