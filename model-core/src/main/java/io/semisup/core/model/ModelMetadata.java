package io.semisup.core.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.semisup.core.image.InputSpec;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a model's weights alone do not say: which architecture they belong to, what each output
 * means, and how to prepare pixels for it. Stored next to the weights in a {@link ModelBundle},
 * so a scorer or a student trainer never has to be told these by hand (and cannot be told them
 * wrong).
 *
 * @param modelId unique name of this trained model (e.g. run id + stage)
 * @param architecture name of the architecture that built the graph, e.g. {@code resnet-small}
 * @param classNames output index i means class {@code classNames.get(i)}
 * @param input the tensor the model expects
 * @param seed the training seed, for reproducibility
 * @param extra free-form provenance (dataset, config hash, metrics); sorted by key
 */
public record ModelMetadata(
    String modelId,
    String architecture,
    List<String> classNames,
    InputSpec input,
    long seed,
    Map<String, String> extra) {

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  public ModelMetadata {
    requireText(modelId, "modelId");
    requireText(architecture, "architecture");
    if (input == null) {
      throw new IllegalArgumentException("Cannot create model metadata without an input spec");
    }
    if (classNames == null || classNames.isEmpty()) {
      throw new IllegalArgumentException(
          "Cannot create model metadata for " + modelId + " without class names:"
              + " a classifier needs at least one class");
    }
    Set<String> seen = new HashSet<>();
    for (String name : classNames) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException(
            "Cannot create model metadata for " + modelId + ": class names must not be blank");
      }
      if (!seen.add(name)) {
        throw new IllegalArgumentException(
            "Cannot create model metadata for " + modelId + ": class name '" + name
                + "' appears twice. Class names must be unique");
      }
    }
    classNames = List.copyOf(classNames);
    extra = extra == null
        ? Map.of()
        : Collections.unmodifiableMap(new TreeMap<>(extra));
  }

  private static void requireText(String value, String what) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(
          "Cannot create model metadata: " + what + " is missing or blank");
    }
  }

  @JsonIgnore
  public int numClasses() {
    return classNames.size();
  }

  /** Same metadata with one more provenance entry. */
  public ModelMetadata withExtra(String key, String value) {
    Map<String, String> m = new TreeMap<>(extra);
    m.put(key, value);
    return new ModelMetadata(modelId, architecture, classNames, input, seed, m);
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot write model metadata as JSON: " + e.getMessage(), e);
    }
  }

  public static ModelMetadata fromJson(String json) {
    try {
      return JSON.readValue(json, ModelMetadata.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "Cannot read model metadata from JSON: " + e.getOriginalMessage()
              + ". Was it written by ModelMetadata.toJson()?", e);
    }
  }
}
