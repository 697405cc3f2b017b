package io.serval.client.services;

/**
 * The top class of a classification service, and its probability.
 *
 * @param label the class's label ({@code "7"}, {@code "spam"})
 * @param score its probability, 0 to 1
 */
public record Classification(String label, float score) {}
