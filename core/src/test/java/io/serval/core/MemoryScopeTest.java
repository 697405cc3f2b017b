package io.serval.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MemoryScopeTest {
  @Test
  void freesItsBuffersWhenTheLastReferenceIsReleased() {
    long before = MemoryScope.liveBytes();
    MemoryScope scope = MemoryScope.open();
    scope.allocate(1000);
    scope.allocate(24);
    scope.retain();

    assertThat(scope.allocatedBytes()).isEqualTo(1024);
    assertThat(MemoryScope.liveBytes() - before).isEqualTo(1024);
    scope.release();
    assertThat(scope.isReleased()).isFalse();
    scope.release();

    assertThat(scope.isReleased()).isTrue();
    assertThat(scope.allocatedBytes()).isZero();
    assertThat(MemoryScope.liveBytes()).isEqualTo(before);
  }

  @Test
  void anAttachedScopeLivesUntilEveryScopeHoldingItIsReleased() {
    MemoryScope batch = MemoryScope.open();
    batch.allocate(64);
    MemoryScope first = MemoryScope.open();
    MemoryScope second = MemoryScope.open();
    first.attach(batch);
    second.attach(batch);
    batch.release();

    first.release();
    assertThat(batch.isReleased()).isFalse();
    second.release();
    assertThat(batch.isReleased()).isTrue();
  }

  @Test
  void refusesUseAfterRelease() {
    MemoryScope scope = MemoryScope.open();
    scope.release();

    assertThatThrownBy(() -> scope.allocate(8)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(scope::retain).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(scope::release).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void freesExplicitlyOnThisJdk() {
    assertThat(MemoryScope.explicitFree()).isTrue();
  }

  @Test
  void clientErrorsCarryNoStackTraceButInternalOnesDo() {
    assertThat(new InvalidInputException("bad").getStackTrace()).isEmpty();
    assertThat(new OverloadedException("full").getStackTrace()).isEmpty();
    assertThat(new InternalException("broken").getStackTrace()).isNotEmpty();
  }
}
