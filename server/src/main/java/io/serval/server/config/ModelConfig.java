package io.serval.server.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.serval.core.DataType;
import io.serval.core.ModelSignature;
import io.serval.core.Shapes;
import io.serval.core.TensorSpec;
import io.serval.engine.Device;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A model's configuration, read from {@code <repo>/<model>/config.yaml} and completed from the model file.
 *
 * <p>Fields (all optional; see {@code models/README.md}): {@code backend} (default {@code onnxruntime}), {@code
 * platform}, {@code max_batch_size} (0: not batched; absent: {@value #AUTO_MAX_BATCH_SIZE} when every input and
 * output of the model has an open first dimension, else 0), {@code version_policy} ({@code latest: N}, {@code
 * all: true} or {@code specific: [..]}), {@code instances} or {@code instance_group} ({@link InstanceGroup}),
 * {@code default_model_filename}, {@code inputs} and
 * {@code outputs} ({@code name}, {@code datatype}, {@code dims} without the batch dimension, and for outputs
 * {@code labels}: a file with one class label per line), {@code parameters} (engine-specific strings), {@code
 * dynamic_batching} ({@link BatchingConfig}), {@code response_cache} ({@code enable: true}) and {@code required}
 * (default true: the server is ready only when the model is; false for a model it may serve without), {@code
 * version_labels} ({@code {stable: 1, canary: 2}}: names usable in place of a version number) and {@code
 * default_version} (a number or a label: where a request without a version goes, instead of the highest ready
 * version). Inputs and outputs left out are taken from the model file.
 */
public final class ModelConfig {
  /** The max_batch_size chosen when the configuration leaves it out and the model can batch, as Triton does. */
  public static final int AUTO_MAX_BATCH_SIZE = 4;

  public static final String FILE_NAME = "config.yaml";
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> FIELDS =
      Set.of(
          "name",
          "backend",
          "platform",
          "max_batch_size",
          "version_policy",
          "instances",
          "instance_group",
          "default_model_filename",
          "inputs",
          "outputs",
          "parameters",
          "dynamic_batching",
          "response_cache",
          "max_run_time_ms",
          "required",
          "version_labels",
          "default_version");
  /** What a version label may be: a word that is not a number (so a label never reads as a version). */
  public static final java.util.regex.Pattern LABEL = java.util.regex.Pattern.compile("[a-z][a-z0-9_-]{0,63}");
  /** A run that takes a minute on a CPU is hung, not slow. */
  static final long DEFAULT_MAX_RUN_TIME_MS = 60_000;
  private static final Set<String> TENSOR_FIELDS = Set.of("name", "datatype", "dims");
  private static final Set<String> OUTPUT_FIELDS = Set.of("name", "datatype", "dims", "labels");

  private final String name;
  private final Path directory;
  private final String source;
  private final String backend;
  private final @Nullable String platform;
  private final int maxBatchSize;
  private final VersionPolicy versionPolicy;
  private final List<InstanceGroup> instanceGroups;
  private final @Nullable String defaultModelFilename;
  private final @Nullable List<TensorConfig> inputs;
  private final @Nullable List<TensorConfig> outputs;
  private final Map<String, String> parameters;
  private final BatchingConfig batching;
  private final boolean responseCache;
  private final boolean required;
  private final Map<String, Long> versionLabels;
  private final @Nullable String defaultVersion;
  private final long maxRunTimeMillis;

  private ModelConfig(
      String name,
      Path directory,
      String source,
      String backend,
      @Nullable String platform,
      int maxBatchSize,
      VersionPolicy versionPolicy,
      List<InstanceGroup> instanceGroups,
      @Nullable String defaultModelFilename,
      @Nullable List<TensorConfig> inputs,
      @Nullable List<TensorConfig> outputs,
      Map<String, String> parameters,
      BatchingConfig batching,
      boolean responseCache,
      long maxRunTimeMillis,
      boolean required,
      Map<String, Long> versionLabels,
      @Nullable String defaultVersion) {
    this.name = name;
    this.directory = directory;
    this.source = source;
    this.backend = backend;
    this.platform = platform;
    this.maxBatchSize = maxBatchSize;
    this.versionPolicy = versionPolicy;
    this.instanceGroups = instanceGroups;
    this.defaultModelFilename = defaultModelFilename;
    this.inputs = inputs;
    this.outputs = outputs;
    this.parameters = Map.copyOf(parameters);
    this.batching = batching;
    this.responseCache = responseCache;
    this.maxRunTimeMillis = maxRunTimeMillis;
    this.required = required;
    this.versionLabels = Map.copyOf(versionLabels);
    this.defaultVersion = defaultVersion;
  }

  /**
   * Reads the configuration of the model in {@code directory}; a folder without {@code config.yaml} gets an
   * empty one, to be completed from the model file.
   *
   * @throws ConfigException listing every invalid field with the file's path
   */
  public static ModelConfig read(Path directory) throws ConfigException {
    String name = directory.getFileName().toString();
    Path file = directory.resolve(FILE_NAME);
    String source = file.toString();
    JsonNode tree = JsonNodeFactory.instance.objectNode();
    if (Files.exists(file)) {
      try {
        JsonNode read = YAML.readTree(Files.readString(file, StandardCharsets.UTF_8));
        if (read != null && !read.isMissingNode() && !read.isNull()) {
          tree = read;
        }
      } catch (JsonProcessingException e) {
        throw new ConfigException(
            List.of(source + ": not valid YAML: " + e.getOriginalMessage() + " at line " + line(e)));
      } catch (IOException e) {
        throw new ConfigException(List.of(source + ": cannot read: " + e.getMessage()));
      }
    }
    ConfigReader root = ConfigReader.root(tree, path -> source);
    if (!tree.isObject()) {
      root.error("", "the document is " + ConfigReader.describe(tree) + " (expected: a mapping)");
      root.throwIfErrors();
    }
    root.rejectUnknownFields(FIELDS);
    String configuredName = root.string("name", name);
    if (configuredName != null && !configuredName.equals(name)) {
      root.error("name", "'" + configuredName + "' differs from the folder name '" + name + "' (expected: the same)");
    }
    String backend = root.string("backend", "onnxruntime");
    String platform = root.string("platform", null);
    int maxBatchSize = (int) root.integer("max_batch_size", -1, 0, Integer.MAX_VALUE);
    VersionPolicy policy = readPolicy(root);
    List<InstanceGroup> instanceGroups = InstanceGroup.read(root);
    String defaultFile = root.string("default_model_filename", null);
    List<TensorConfig> inputs = root.has("inputs") ? readTensors(root, "inputs", directory) : null;
    List<TensorConfig> outputs = root.has("outputs") ? readTensors(root, "outputs", directory) : null;
    Map<String, String> parameters = root.stringMap("parameters");
    BatchingConfig batching = BatchingConfig.read(root, maxBatchSize);
    if (batching.enabled() && maxBatchSize == 0) {
      root.error("dynamic_batching", "is set but max_batch_size is 0 (expected: max_batch_size >= 1 to batch)");
    }
    boolean responseCache = false;
    if (root.has("response_cache")) {
      ConfigReader cache = root.child("response_cache");
      cache.rejectUnknownFields(Set.of("enable"));
      responseCache = cache.bool("enable", false);
    }
    long maxRunTime = root.integer("max_run_time_ms", DEFAULT_MAX_RUN_TIME_MS, 0, Long.MAX_VALUE / 1_000_000);
    boolean required = root.bool("required", true);
    Map<String, Long> labels = new java.util.TreeMap<>();
    root.stringMap("version_labels").forEach((label, version) -> {
      if (!LABEL.matcher(label).matches()) {
        root.error("version_labels", "label '" + label + "' is not a label name (expected: a lower-case word"
            + " starting with a letter: letters, digits, '_' and '-', at most 64)");
      } else if (!version.matches("\\d{1,18}")) {
        root.error("version_labels", "label '" + label + "' is '" + version + "' (expected: a version number)");
      } else {
        labels.put(label, Long.parseLong(version));
      }
    });
    String defaultVersion = root.string("default_version", null);
    if (defaultVersion != null && !defaultVersion.matches("\\d{1,18}") && !labels.containsKey(defaultVersion)) {
      root.error("default_version", "'" + defaultVersion + "' is neither a version number nor one of"
          + " version_labels (" + (labels.isEmpty() ? "none" : String.join(", ", labels.keySet())) + ")");
    }
    root.throwIfErrors();
    return new ModelConfig(
        name,
        directory,
        source,
        backend == null ? "onnxruntime" : backend,
        platform,
        maxBatchSize,
        policy,
        instanceGroups,
        defaultFile,
        inputs,
        outputs,
        parameters,
        batching,
        responseCache,
        maxRunTime,
        required,
        labels,
        defaultVersion);
  }

  private static long line(JsonProcessingException e) {
    return e.getLocation() == null ? 0 : e.getLocation().getLineNr();
  }

  private static VersionPolicy readPolicy(ConfigReader root) {
    if (!root.has("version_policy")) {
      return VersionPolicy.latest(1);
    }
    ConfigReader policy = root.child("version_policy");
    policy.rejectUnknownFields(Set.of("latest", "all", "specific"));
    int kinds = (policy.has("latest") ? 1 : 0) + (policy.has("all") ? 1 : 0) + (policy.has("specific") ? 1 : 0);
    if (kinds != 1) {
      policy.error("", "names " + kinds + " policies (expected: exactly one of latest: N, all: true, specific: [..])");
      return VersionPolicy.latest(1);
    }
    if (policy.has("latest")) {
      return VersionPolicy.latest((int) policy.integer("latest", 1, 1, Integer.MAX_VALUE));
    }
    if (policy.has("all")) {
      if (!policy.bool("all", true)) {
        policy.error("all", "false (expected: true, or another policy)");
      }
      return VersionPolicy.all();
    }
    long[] versions = policy.integers("specific", 0);
    if (versions == null || versions.length == 0) {
      policy.error("specific", "is empty (expected: a list of version numbers)");
      return VersionPolicy.latest(1);
    }
    return VersionPolicy.specific(versions);
  }

  private static List<TensorConfig> readTensors(ConfigReader root, String field, Path directory) {
    List<TensorConfig> tensors = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (ConfigReader item : root.list(field)) {
      item.rejectUnknownFields(field.equals("outputs") ? OUTPUT_FIELDS : TENSOR_FIELDS);
      String name = item.string("name", null);
      if (name == null) {
        item.error("name", "is missing (expected: the tensor's name in the model)");
        continue;
      }
      if (names.contains(name)) {
        item.error("name", "'" + name + "' is listed twice");
      }
      names.add(name);
      String typeName = item.string("datatype", null);
      DataType type = typeName == null ? null : DataType.fromConfigName(typeName);
      if (typeName == null) {
        item.error("datatype", "is missing (expected: one of BOOL, UINT8..64, INT8..64, FP16, FP32, FP64, BF16, BYTES)");
      } else if (type == null) {
        item.error("datatype", "'" + typeName + "' (expected: one of BOOL, UINT8..64, INT8..64, FP16, FP32, FP64, BF16, BYTES)");
      }
      long[] dims = item.integers("dims", Shapes.DYNAMIC);
      if (dims == null) {
        item.error("dims", "is missing (expected: a list of dimensions, -1 for open ones, without the batch dimension)");
      }
      List<String> labels = List.of();
      String labelsFile = item.string("labels", null);
      if (labelsFile != null) {
        Path path = directory.resolve(labelsFile);
        try {
          labels = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
          item.error("labels", "cannot read " + path + ": " + e.getMessage());
        }
      }
      if (type != null && dims != null) {
        tensors.add(new TensorConfig(name, type, dims, labelsFile, labels));
      }
    }
    return tensors;
  }

  /**
   * This configuration completed and checked against a model file's own signature: inputs, outputs and
   * max_batch_size left out are taken from the model; those given must agree with it.
   *
   * @param engine the engine that loaded the model, the completed configuration's backend
   * @param engineDevice the engine's own device, for instance groups that name none
   * @param model the signature the engine read from the model file
   * @param modelFile the model file, for messages
   * @throws ConfigException naming each field that disagrees with the model
   */
  public ModelConfig completeWith(String engine, Device.Kind engineDevice, ModelSignature model, Path modelFile)
      throws ConfigException {
    List<String> errors = new ArrayList<>();
    int batch = maxBatchSize;
    if (batch < 0) {
      boolean batchable =
          model.inputs().stream().allMatch(ModelConfig::hasOpenFirstDim)
              && model.outputs().stream().allMatch(ModelConfig::hasOpenFirstDim);
      batch = batchable ? AUTO_MAX_BATCH_SIZE : 0;
    }
    if (batching.enabled() && batch == 0) {
      errors.add(source + ": dynamic_batching: is set but " + modelFile + " cannot batch (max_batch_size 0)"
          + " (expected: every input and output with an open first dimension)");
    }
    for (int size : batching.preferredBatchSizes()) {
      if (size > batch) {
        errors.add(source + ": dynamic_batching.preferred_batch_sizes: " + size + " is larger than max_batch_size "
            + batch + " (expected: 1 to " + batch + ")");
      }
    }
    List<TensorConfig> servedInputs =
        complete("inputs", inputs, model.inputs(), batch, modelFile, true, errors);
    List<TensorConfig> servedOutputs =
        complete("outputs", outputs, model.outputs(), batch, modelFile, false, errors);
    if (!errors.isEmpty()) {
      throw new ConfigException(errors);
    }
    return new ModelConfig(
        name,
        directory,
        source,
        engine,
        platform,
        batch,
        versionPolicy,
        instanceGroups.stream().map(group -> group.kind() != null ? group
            : new InstanceGroup(group.count(), engineDevice, group.gpus())).toList(),
        defaultModelFilename,
        servedInputs,
        servedOutputs,
        parameters,
        batching,
        responseCache,
        maxRunTimeMillis,
        required,
        versionLabels,
        defaultVersion);
  }

  private static boolean hasOpenFirstDim(TensorSpec spec) {
    return spec.rank() >= 1 && spec.shape()[0] == Shapes.DYNAMIC;
  }

  private List<TensorConfig> complete(
      String field,
      @Nullable List<TensorConfig> configured,
      List<TensorSpec> model,
      int batch,
      Path modelFile,
      boolean allRequired,
      List<String> errors) {
    if (configured == null) {
      List<TensorConfig> derived = new ArrayList<>();
      for (TensorSpec spec : model) {
        long[] shape = spec.shape();
        long[] dims = batch > 0 ? Arrays.copyOfRange(shape, 1, shape.length) : shape;
        derived.add(new TensorConfig(spec.name(), spec.dataType(), dims, null, List.of()));
      }
      return derived;
    }
    for (int i = 0; i < configured.size(); i++) {
      TensorConfig tensor = configured.get(i);
      String at = source + ": " + field + "[" + i + "]";
      TensorSpec spec = model.stream().filter(s -> s.name().equals(tensor.name())).findFirst().orElse(null);
      if (spec == null) {
        errors.add(at + ".name: '" + tensor.name() + "' is not " + (allRequired ? "an input" : "an output")
            + " of " + modelFile + " (expected one of: " + names(model) + ")");
        continue;
      }
      if (spec.dataType() != tensor.dataType()) {
        errors.add(at + ".datatype: " + tensor.dataType().wireName() + " but " + modelFile + " has "
            + spec.dataType().wireName() + " (expected: " + spec.dataType().wireName() + ")");
      }
      long[] modelShape = spec.shape();
      long[] served = batch > 0 ? Shapes.prepend(Shapes.DYNAMIC, tensor.dims()) : tensor.dims();
      if (batch > 0 && (modelShape.length == 0 || modelShape[0] != Shapes.DYNAMIC)) {
        errors.add(at + ": max_batch_size is " + batch + " but '" + tensor.name() + "' in " + modelFile
            + " has shape " + Shapes.format(modelShape) + " with no open first dimension to batch along"
            + " (expected: max_batch_size: 0)");
        continue;
      }
      if (served.length != modelShape.length) {
        errors.add(at + ".dims: " + Shapes.format(tensor.dims()) + " has rank " + tensor.dims().length + " but '"
            + tensor.name() + "' in " + modelFile + " has shape " + Shapes.format(modelShape)
            + " (expected: rank " + (modelShape.length - (batch > 0 ? 1 : 0))
            + (batch > 0 ? " without the batch dimension)" : ")"));
        continue;
      }
      for (int d = batch > 0 ? 1 : 0; d < served.length; d++) {
        if (modelShape[d] != Shapes.DYNAMIC && served[d] != modelShape[d]) {
          errors.add(at + ".dims: " + Shapes.format(tensor.dims()) + " disagrees with '" + tensor.name() + "' in "
              + modelFile + " of shape " + Shapes.format(modelShape) + " at dimension " + d + " (expected: "
              + modelShape[d] + ")");
          break;
        }
      }
    }
    if (allRequired) {
      for (TensorSpec spec : model) {
        if (configured.stream().noneMatch(t -> t.name().equals(spec.name()))) {
          errors.add(source + ": " + field + ": input '" + spec.name() + "' of " + modelFile
              + " is not configured (expected: every model input listed)");
        }
      }
    }
    return configured;
  }

  private static String names(List<TensorSpec> specs) {
    List<String> names = new ArrayList<>();
    specs.forEach(s -> names.add("'" + s.name() + "'"));
    return String.join(", ", names);
  }

  /** The signature the model is served with: the configured dims, after a {@code -1} batch dimension if batched. */
  public ModelSignature servedSignature() {
    return ModelSignature.of(served(inputs()), served(outputs()));
  }

  private List<TensorSpec> served(List<TensorConfig> tensors) {
    List<TensorSpec> specs = new ArrayList<>();
    for (TensorConfig tensor : tensors) {
      long[] dims = maxBatchSize > 0 ? Shapes.prepend(Shapes.DYNAMIC, tensor.dims()) : tensor.dims();
      specs.add(TensorSpec.of(tensor.name(), tensor.dataType(), dims));
    }
    return specs;
  }

  public String name() {
    return name;
  }

  /** The model's folder. */
  public Path directory() {
    return directory;
  }

  /** The engine that runs the model. */
  public String backend() {
    return backend;
  }

  /**
   * The platform reported in metadata: {@code onnxruntime_onnx} for ONNX Runtime and {@code tensorrt_plan} for
   * TensorRT, as Triton names them, else the engine's name ({@code openvino}, {@code arm}); once completed, of the
   * engine that loaded the model ({@code auto} resolved).
   */
  public String platform() {
    if (platform != null) {
      return platform;
    }
    return switch (backend) {
      case "onnxruntime" -> "onnxruntime_onnx";
      case "tensorrt" -> "tensorrt_plan";
      default -> backend;
    };
  }

  /** The largest batch a request may carry; 0 when the model is not batched. Only meaningful once completed. */
  public int maxBatchSize() {
    return Math.max(maxBatchSize, 0);
  }

  public VersionPolicy versionPolicy() {
    return versionPolicy;
  }

  /** The instances of each version that run side by side, by device ({@code instance_group} or {@code instances}). */
  public List<InstanceGroup> instanceGroups() {
    return instanceGroups;
  }

  /** The model file name inside a version folder, when the configuration names one. */
  public @Nullable String defaultModelFilename() {
    return defaultModelFilename;
  }

  /** The inputs; empty until {@link #completeWith} when the configuration leaves them out. */
  public List<TensorConfig> inputs() {
    return inputs == null ? List.of() : inputs;
  }

  /** The outputs; empty until {@link #completeWith} when the configuration leaves them out. */
  public List<TensorConfig> outputs() {
    return outputs == null ? List.of() : outputs;
  }

  /** The configured output of that name, if any. */
  public @Nullable TensorConfig output(String outputName) {
    return outputs().stream().filter(o -> o.name().equals(outputName)).findFirst().orElse(null);
  }

  /** How requests are queued and batched. */
  public BatchingConfig batching() {
    return batching;
  }

  /** Whether identical requests are answered from the server's response cache. */
  /**
   * How long one run may take before it is stopped and its requests answered DEADLINE_EXCEEDED ({@code
   * max_run_time_ms}, default {@value #DEFAULT_MAX_RUN_TIME_MS}; 0: no limit).
   */
  public java.time.Duration maxRunTime() {
    return java.time.Duration.ofMillis(maxRunTimeMillis);
  }

  /** Names for version numbers ({@code stable: 1}), usable wherever a request names a version. */
  public Map<String, Long> versionLabels() {
    return versionLabels;
  }

  /** The version (a number or a label) a request without a version goes to; {@code null}: the highest ready. */
  public @Nullable String defaultVersion() {
    return defaultVersion;
  }

  /** Whether the server is ready only when this model is. */
  public boolean required() {
    return required;
  }

  public boolean responseCache() {
    return responseCache;
  }

  /** Engine-specific parameters. */
  public Map<String, String> parameters() {
    return parameters;
  }
}
