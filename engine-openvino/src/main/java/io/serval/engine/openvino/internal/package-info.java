/**
 * The JNA mapping of the part of OpenVINO's C API ({@code openvino/c/openvino.h}) that the OpenVINO engine calls.
 * Internal: public only because JNA needs public interfaces and structures, and anything here may change without
 * notice. Start with {@link io.serval.engine.openvino.internal.OvApi}.
 */
@NullMarked
package io.serval.engine.openvino.internal;

import org.jspecify.annotations.NullMarked;
