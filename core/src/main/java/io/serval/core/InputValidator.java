package io.serval.core;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Checks a request's input tensors against the signature a model is served with, before anything reaches
 * native code. Every failure is an {@link InvalidInputException} that names the input, the dimension and what
 * was expected.
 *
 * <pre>{@code
 * InputValidator.validate("model 'cls' version 1", servedSignature, 8, request.inputs());
 * }</pre>
 */
public final class InputValidator {
  private InputValidator() {}

  /**
   * Validates {@code inputs}.
   *
   * @param subject how messages name the model ("model 'cls' version 1")
   * @param served the served signature; when {@code maxBatchSize > 0} its first dimension is the batch
   * @param maxBatchSize the largest batch a request may carry, or 0 when the model is not batched
   * @return the batch size of the request (1 for a model that is not batched)
   */
  public static int validate(String subject, ModelSignature served, int maxBatchSize, List<Tensor> inputs) {
    Set<String> seen = new HashSet<>();
    long batch = -1;
    String batchSource = "";
    for (Tensor input : inputs) {
      TensorSpec spec = served.input(input.name());
      if (spec == null) {
        throw new InvalidInputException(
            subject + ": unexpected input '" + input.name() + "' (expected: " + names(served.inputs()) + ")");
      }
      if (!seen.add(input.name())) {
        throw new InvalidInputException(subject + ": input '" + input.name() + "' is given more than once");
      }
      if (input.dataType() != spec.dataType()) {
        throw new InvalidInputException(
            subject
                + ": input '"
                + input.name()
                + "' has datatype "
                + input.dataType().wireName()
                + " (expected: "
                + spec.dataType().wireName()
                + ")");
      }
      long[] shape = input.shape();
      long[] expected = spec.shape();
      if (shape.length != expected.length) {
        throw new InvalidInputException(
            subject
                + ": input '"
                + input.name()
                + "' has shape "
                + Shapes.format(shape)
                + " of rank "
                + shape.length
                + " (expected: rank "
                + expected.length
                + ", shape "
                + Shapes.format(expected)
                + ")");
      }
      for (int i = 0; i < shape.length; i++) {
        boolean batchDim = maxBatchSize > 0 && i == 0;
        if (batchDim) {
          if (shape[0] < 1 || shape[0] > maxBatchSize) {
            throw new InvalidInputException(
                subject
                    + ": input '"
                    + input.name()
                    + "' has batch size "
                    + shape[0]
                    + " (expected: 1 to "
                    + maxBatchSize
                    + ", the model's max_batch_size)");
          }
          if (batch >= 0 && shape[0] != batch) {
            throw new InvalidInputException(
                subject
                    + ": input '"
                    + input.name()
                    + "' has batch size "
                    + shape[0]
                    + " but input '"
                    + batchSource
                    + "' has "
                    + batch
                    + " (expected: the same batch size for every input)");
          }
          batch = shape[0];
          batchSource = input.name();
        } else if (expected[i] != Shapes.DYNAMIC && shape[i] != expected[i]) {
          throw new InvalidInputException(
              subject
                  + ": input '"
                  + input.name()
                  + "' has shape "
                  + Shapes.format(shape)
                  + ": dimension "
                  + i
                  + " is "
                  + shape[i]
                  + " (expected: "
                  + expected[i]
                  + ", shape "
                  + Shapes.format(expected)
                  + ")");
        }
      }
    }
    for (TensorSpec spec : served.inputs()) {
      if (!seen.contains(spec.name())) {
        throw new InvalidInputException(
            subject
                + ": missing input '"
                + spec.name()
                + "' (expected: "
                + spec.dataType().wireName()
                + Shapes.format(spec.shape())
                + ")");
      }
    }
    return batch < 0 ? 1 : (int) batch;
  }

  private static String names(List<TensorSpec> specs) {
    return specs.stream().map(spec -> "'" + spec.name() + "'").collect(Collectors.joining(", "));
  }
}
