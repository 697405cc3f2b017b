/**
 * Typed helpers for Serval's built-in services, which are pipelines served as v2 models: {@link
 * io.serval.client.services.BuiltInServices} turns a file or a sentence into a {@link
 * io.serval.client.services.Classification} or an {@link io.serval.client.services.OcrResult}, over either
 * transport. Any other pipeline is called with {@link io.serval.client.ServalClient#infer}, like a model.
 */
@NullMarked
package io.serval.client.services;

import org.jspecify.annotations.NullMarked;
