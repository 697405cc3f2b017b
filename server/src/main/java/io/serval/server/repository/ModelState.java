package io.serval.server.repository;

/** The states of a model version, as the repository index reports them (Triton's names). */
public enum ModelState {
  LOADING,
  READY,
  UNAVAILABLE
}
