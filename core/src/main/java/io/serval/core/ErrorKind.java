package io.serval.core;

/**
 * What went wrong, in the terms the protocols report: each kind maps to one HTTP status and one gRPC code, in
 * one place in the server.
 */
public enum ErrorKind {
  /** The request is malformed or does not fit the model (HTTP 400, gRPC INVALID_ARGUMENT). */
  INVALID_ARGUMENT,
  /** No such model, version or route (HTTP 404, gRPC NOT_FOUND). */
  NOT_FOUND,
  /** The model or server exists but cannot serve now (HTTP 503, gRPC UNAVAILABLE). */
  UNAVAILABLE,
  /** The request asks for something Serval does not implement (HTTP 501, gRPC UNIMPLEMENTED). */
  UNSUPPORTED,
  /** The request body is larger than the configured limit (HTTP 413, gRPC RESOURCE_EXHAUSTED). */
  TOO_LARGE,
  /** Serval sheds load: a queue is full (HTTP 429, gRPC RESOURCE_EXHAUSTED). */
  OVERLOADED,
  /** The request's deadline passed before it ran (HTTP 504, gRPC DEADLINE_EXCEEDED). */
  DEADLINE_EXCEEDED,
  /** The caller cancelled the request before it ran (HTTP 499, gRPC CANCELLED). */
  CANCELLED,
  /** A failure inside Serval or an engine (HTTP 500, gRPC INTERNAL). */
  INTERNAL
}
