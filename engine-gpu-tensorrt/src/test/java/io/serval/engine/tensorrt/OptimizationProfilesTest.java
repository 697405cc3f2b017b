package io.serval.engine.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.serval.core.DataType;
import io.serval.core.TensorSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptimizationProfilesTest {
  private static final TensorSpec IMAGE = TensorSpec.of("image", DataType.FP32, -1, 3, 224, 224);
  private static final TensorSpec SCALE = TensorSpec.of("scale", DataType.FP32, 1);
  private static final TensorSpec LINE = TensorSpec.of("x", DataType.FP32, -1, 3, 48, -1);

  private static TensorRtSettings parameters(String... keysAndValues) {
    Map<String, String> map = new HashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return TensorRtSettings.of(Map.of(), map);
  }

  @Test
  void aDynamicBatchRangesFromOneToMaxBatchSizeAndIsTunedForTheFullBatch() {
    List<ShapeRange> profile = OptimizationProfiles.derive(List.of(IMAGE), parameters("max_batch_size", "16"));

    assertThat(profile).containsExactly(
        ShapeRange.of("image", new long[] {1, 3, 224, 224}, new long[] {16, 3, 224, 224},
            new long[] {16, 3, 224, 224}));
    assertThat(OptimizationProfiles.canonical(profile))
        .isEqualTo("image:1x3x224x224/16x3x224x224/16x3x224x224");
  }

  @Test
  void staticInputsNeedNoRange() {
    List<ShapeRange> profile = OptimizationProfiles.derive(List.of(SCALE, IMAGE), parameters("max_batch_size", "2"));

    assertThat(profile).extracting(ShapeRange::input).containsExactly("image");
    assertThat(OptimizationProfiles.derive(List.of(SCALE), parameters())).isEmpty();
    assertThat(OptimizationProfiles.canonical(List.of())).isEqualTo("none");
  }

  @Test
  void aDynamicBatchWithoutMaxBatchSizeNamesBothWaysToBoundIt() {
    assertThatThrownBy(() -> OptimizationProfiles.derive(List.of(IMAGE), parameters()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("input 'image' [-1,3,224,224] has a dynamic batch dimension (expected: parameter max_batch_size,"
            + " or profile.image with min,opt,max shapes)");
  }

  @Test
  void aDynamicNonBatchDimensionNeedsAnExplicitProfile() {
    assertThatThrownBy(() -> OptimizationProfiles.derive(List.of(LINE), parameters("max_batch_size", "4")))
        .hasMessage("input 'x' [-1,3,48,-1] has dynamic dimension 3, which only the model's author can bound"
            + " (expected: parameter profile.x with min,opt,max shapes, such as 1x3x48x32,4x3x48x224,4x3x48x640)");
  }

  @Test
  void anExplicitProfileBoundsEveryDynamicDimension() {
    List<ShapeRange> profile = OptimizationProfiles.derive(List.of(LINE, SCALE),
        parameters("profile.x", "1x3x48x32,4x3x48x192,8x3x48x960"));

    assertThat(OptimizationProfiles.canonical(profile)).isEqualTo("x:1x3x48x32/4x3x48x192/8x3x48x960");
  }

  @Test
  void anExplicitProfileMustKeepTheModelsFixedDimensions() {
    assertThatThrownBy(() -> OptimizationProfiles.derive(List.of(LINE),
        parameters("profile.x", "1x3x32x32,4x3x48x192,8x3x48x960")))
        .hasMessage("parameters.profile.x: dimension 2 ranges 32 to 48 but the model fixes it at 48 in [-1,3,48,-1]"
            + " (expected: 48 in min, opt and max)");
  }

  @Test
  void anExplicitProfileMustHaveTheInputsRank() {
    assertThatThrownBy(() -> OptimizationProfiles.derive(List.of(LINE), parameters("profile.x", "1x3,2x3,4x3")))
        .hasMessage("parameters.profile.x: shapes of rank 2 for input 'x' [-1,3,48,-1] (expected: rank 4)");
  }

  @Test
  void aProfileForAnInputTheModelLacksNamesTheInputsItHas() {
    assertThatThrownBy(() -> OptimizationProfiles.derive(List.of(IMAGE, SCALE),
        parameters("max_batch_size", "2", "profile.images", "1x3x224x224,2x3x224x224,2x3x224x224")))
        .hasMessage("parameters.profile.images: the model has no input 'images' (expected one of: image, scale)");
  }
}
