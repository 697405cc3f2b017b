package io.serval.engine.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.DataType;
import org.bytedeco.tensorrt.global.nvinfer;
import org.junit.jupiter.api.Test;

class TensorRtTypesTest {
  @Test
  void mapsEveryTypeTheV2ProtocolCarries() {
    assertThat(TensorRtTypes.toDataType(nvinfer.DataType.kFLOAT)).isEqualTo(DataType.FP32);
    assertThat(TensorRtTypes.toDataType(nvinfer.DataType.kHALF)).isEqualTo(DataType.FP16);
    assertThat(TensorRtTypes.toDataType(nvinfer.DataType.kBF16)).isEqualTo(DataType.BF16);
    assertThat(TensorRtTypes.toDataType(nvinfer.DataType.kINT8)).isEqualTo(DataType.INT8);
    assertThat(TensorRtTypes.toDataType(nvinfer.DataType.kUINT8)).isEqualTo(DataType.UINT8);
    assertThat(TensorRtTypes.toDataType(nvinfer.DataType.kINT32)).isEqualTo(DataType.INT32);
    assertThat(TensorRtTypes.toDataType(nvinfer.DataType.kINT64)).isEqualTo(DataType.INT64);
    assertThat(TensorRtTypes.toDataType(nvinfer.DataType.kBOOL)).isEqualTo(DataType.BOOL);
  }

  @Test
  void leavesOutTheTypesV2CannotCarry() {
    assertThat(TensorRtTypes.toDataType(nvinfer.DataType.kFP8)).isNull();
    assertThat(TensorRtTypes.toDataType(nvinfer.DataType.kINT4)).isNull();
    assertThat(TensorRtTypes.toDataType(nvinfer.DataType.kFP4)).isNull();
    assertThat(TensorRtTypes.toDataType(nvinfer.DataType.kE8M0)).isNull();
  }
}
