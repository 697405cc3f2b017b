package io.serval.server.protocol.v2;

import io.serval.core.Servable;
import io.serval.core.ServalException;
import io.serval.core.TensorSpec;
import io.serval.engine.Device;
import io.serval.protocol.v2.InferBatchStatistics;
import io.serval.protocol.v2.InferStatistics;
import io.serval.protocol.v2.ModelConfig;
import io.serval.protocol.v2.ModelDynamicBatching;
import io.serval.protocol.v2.ModelInput;
import io.serval.protocol.v2.ModelInstanceGroup;
import io.serval.protocol.v2.ModelMetadataResponse;
import io.serval.protocol.v2.ModelOutput;
import io.serval.protocol.v2.ModelParameter;
import io.serval.protocol.v2.ModelQueuePolicy;
import io.serval.protocol.v2.ModelResponseCache;
import io.serval.protocol.v2.ModelStatistics;
import io.serval.protocol.v2.ModelStatisticsResponse;
import io.serval.protocol.v2.ModelVersionPolicy;
import io.serval.protocol.v2.RepositoryIndexResponse;
import io.serval.protocol.v2.ServerMetadataResponse;
import io.serval.protocol.v2.StatisticDuration;
import io.serval.server.config.BatchingConfig;
import io.serval.server.config.TensorConfig;
import io.serval.server.config.VersionPolicy;
import io.serval.server.inference.ServedPipelines;
import io.serval.server.metrics.Duration;
import io.serval.server.repository.ModelEntry;
import io.serval.server.repository.ModelRepository;
import io.serval.server.routing.RouteHints;
import io.serval.server.routing.ServedRoutes;
import io.serval.server.repository.ModelVersion;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Builds the v2 answers that are not predictions (server and model metadata, model configuration, statistics,
 * repository index) from the repository, once for both protocols.
 */
public final class V2Messages {
  /** The server name reported in metadata. */
  public static final String SERVER_NAME = "serval";

  /** The platform metadata and model config give a pipeline. */
  public static final String PIPELINE_PLATFORM = "serval_pipeline";
  /** The platform metadata and model config give an A/B route. */
  public static final String ROUTE_PLATFORM = "serval_route";

  /** The protocol extensions Serval implements, as listed in server metadata. */
  public static final List<String> EXTENSIONS =
      List.of("binary_tensor_data", "classification", "model_configuration", "model_repository", "statistics",
          "parameters", "schedule_policy");

  /** The model-config parameter that shows how a version's instances share the CPU budget. */
  public static final String THREADING = "serval.threading";

  private final ModelRepository repository;
  private final ServedPipelines pipelines;
  private final ServedRoutes routes;
  private final String serverVersion;

  public V2Messages(ModelRepository repository, ServedPipelines pipelines, ServedRoutes routes,
      String serverVersion) {
    this.routes = routes;
    this.repository = repository;
    this.pipelines = pipelines;
    this.serverVersion = serverVersion;
  }

  public ServerMetadataResponse serverMetadata() {
    return ServerMetadataResponse.newBuilder()
        .setName(SERVER_NAME)
        .setVersion(serverVersion)
        .addAllExtensions(EXTENSIONS)
        .build();
  }

  /** Metadata of the version a request names (empty: the highest ready one). */
  public ModelMetadataResponse modelMetadata(String model, String version) {
    Servable composite = composite(model, version);
    if (composite != null) {
      Servable resolved = composite;
      return ModelMetadataResponse.newBuilder().setName(model).setPlatform(platform(model))
          .addVersions(resolved.version())
          .addAllInputs(resolved.signature().inputs().stream().map(V2Messages::tensorMetadata).toList())
          .addAllOutputs(resolved.signature().outputs().stream().map(V2Messages::tensorMetadata).toList())
          .build();
    }
    ModelVersion resolved = repository.resolve(model, version);
    ModelMetadataResponse.Builder builder =
        ModelMetadataResponse.newBuilder().setName(model).setPlatform(resolved.config().platform());
    if (version.isEmpty()) {
      repository.model(model).readyVersions().forEach(ready -> builder.addVersions(ready.versionString()));
    } else {
      builder.addVersions(resolved.versionString());
    }
    for (TensorSpec spec : resolved.servedSignature().inputs()) {
      builder.addInputs(tensorMetadata(spec));
    }
    for (TensorSpec spec : resolved.servedSignature().outputs()) {
      builder.addOutputs(tensorMetadata(spec));
    }
    return builder.build();
  }

  private static ModelMetadataResponse.TensorMetadata tensorMetadata(TensorSpec spec) {
    ModelMetadataResponse.TensorMetadata.Builder tensor =
        ModelMetadataResponse.TensorMetadata.newBuilder().setName(spec.name()).setDatatype(spec.dataType().wireName());
    for (long dim : spec.shape()) {
      tensor.addShape(dim);
    }
    return tensor.build();
  }

  /** The configuration of the version a request names, in Triton's {@code ModelConfig} terms. */
  public ModelConfig modelConfig(String model, String version) {
    Servable composite = composite(model, version);
    if (composite != null) {
      return compositeConfig(composite, platform(model));
    }
    ModelVersion resolved = repository.resolve(model, version);
    io.serval.server.config.ModelConfig config = resolved.config();
    ModelConfig.Builder builder =
        ModelConfig.newBuilder()
            .setName(model)
            .setPlatform(config.platform())
            .setBackend(config.backend())
            .setMaxBatchSize(config.maxBatchSize())
            .setVersionPolicy(versionPolicy(config.versionPolicy()));
    List<io.serval.server.config.InstanceGroup> groups = config.instanceGroups();
    for (int i = 0; i < groups.size(); i++) {
      io.serval.server.config.InstanceGroup group = groups.get(i);
      boolean gpu = group.kind() == Device.Kind.GPU;
      builder.addInstanceGroup(ModelInstanceGroup.newBuilder()
          .setName(model + "_" + i)
          .setCount(group.count())
          .setKind(gpu ? ModelInstanceGroup.Kind.KIND_GPU : ModelInstanceGroup.Kind.KIND_CPU)
          .addAllGpus(gpu && group.gpus().isEmpty() ? List.of(0) : group.gpus()));
    }
    if (config.defaultModelFilename() != null) {
      builder.setDefaultModelFilename(config.defaultModelFilename());
    }
    for (TensorConfig input : config.inputs()) {
      ModelInput.Builder tensor =
          ModelInput.newBuilder().setName(input.name()).setDataType(dataType(input.dataType()));
      for (long dim : input.dims()) {
        tensor.addDims(dim);
      }
      builder.addInput(tensor);
    }
    for (TensorConfig output : config.outputs()) {
      ModelOutput.Builder tensor =
          ModelOutput.newBuilder().setName(output.name()).setDataType(dataType(output.dataType()));
      for (long dim : output.dims()) {
        tensor.addDims(dim);
      }
      if (output.labelsFile() != null) {
        tensor.setLabelFilename(output.labelsFile());
      }
      builder.addOutput(tensor);
    }
    config.parameters().forEach((key, value) -> builder.putParameters(
        key, ModelParameter.newBuilder().setStringValue(value).build()));
    builder.putParameters(THREADING, ModelParameter.newBuilder().setStringValue(resolved.threading()).build());
    BatchingConfig batching = config.batching();
    if (batching.enabled()) {
      ModelDynamicBatching.Builder dynamic = ModelDynamicBatching.newBuilder()
          .setMaxQueueDelayMicroseconds(batching.maxQueueDelayMicros())
          .setPriorityLevels(batching.priorityLevels())
          .setDefaultPriorityLevel(batching.defaultPriorityLevel())
          .setDefaultQueuePolicy(ModelQueuePolicy.newBuilder()
              .setMaxQueueSize(batching.maxQueueSize())
              .setDefaultTimeoutMicroseconds(batching.defaultTimeoutMicros())
              .setAllowTimeoutOverride(batching.allowTimeoutOverride())
              .setTimeoutAction(batching.timeoutAction() == BatchingConfig.TimeoutAction.DELAY
                  ? ModelQueuePolicy.TimeoutAction.DELAY
                  : ModelQueuePolicy.TimeoutAction.REJECT));
      for (int size : batching.preferredBatchSizes()) {
        dynamic.addPreferredBatchSize(size);
      }
      builder.setDynamicBatching(dynamic);
    }
    builder.setResponseCache(ModelResponseCache.newBuilder().setEnable(config.responseCache()));
    return builder.build();
  }

  /**
   * A pipeline or route, resolved, when {@code model} names one; {@code null} for a model.
   *
   * @throws io.serval.core.ModelNotFoundException for a version other than 1
   * @throws io.serval.core.ModelUnavailableException when it is not served
   */
  private @Nullable Servable composite(String model, String version) {
    ServedPipelines.Entry pipeline = pipelines.get(model);
    if (pipeline != null) {
      return pipeline.resolve(version);
    }
    ServedRoutes.Entry route = routes.get(model);
    return route == null ? null : ServedRoutes.resolve(route, version, RouteHints.NONE);
  }

  private String platform(String composite) {
    return pipelines.get(composite) != null ? PIPELINE_PLATFORM : ROUTE_PLATFORM;
  }

  /**
   * A pipeline's or route's configuration: its signature (a pipeline's unbatched: its infer nodes batch inside
   * their models).
   */
  private static ModelConfig compositeConfig(Servable pipeline, String platform) {
    ModelConfig.Builder builder = ModelConfig.newBuilder()
        .setName(pipeline.name())
        .setPlatform(platform)
        .setBackend("serval")
        .setMaxBatchSize(pipeline.maxBatchSize());
    for (TensorSpec spec : pipeline.signature().inputs()) {
      ModelInput.Builder input = ModelInput.newBuilder().setName(spec.name()).setDataType(dataType(spec.dataType()));
      for (long dim : spec.shape()) {
        input.addDims(dim);
      }
      builder.addInput(input);
    }
    for (TensorSpec spec : pipeline.signature().outputs()) {
      ModelOutput.Builder output =
          ModelOutput.newBuilder().setName(spec.name()).setDataType(dataType(spec.dataType()));
      for (long dim : spec.shape()) {
        output.addDims(dim);
      }
      builder.addOutput(output);
    }
    return builder.build();
  }

  private static io.serval.protocol.v2.DataType dataType(io.serval.core.DataType type) {
    return io.serval.protocol.v2.DataType.valueOf(type.configName());
  }

  private static ModelVersionPolicy versionPolicy(VersionPolicy policy) {
    switch (policy.kind()) {
      case LATEST:
        return ModelVersionPolicy.newBuilder()
            .setLatest(ModelVersionPolicy.Latest.newBuilder().setNumVersions(policy.latestCount()))
            .build();
      case ALL:
        return ModelVersionPolicy.newBuilder().setAll(ModelVersionPolicy.All.getDefaultInstance()).build();
      default:
        ModelVersionPolicy.Specific.Builder specific = ModelVersionPolicy.Specific.newBuilder();
        for (long version : policy.specificVersions()) {
          specific.addVersions(version);
        }
        return ModelVersionPolicy.newBuilder().setSpecific(specific).build();
    }
  }

  /**
   * Statistics of every ready version of every model and every served pipeline (no model named), of every ready
   * version of one model (no version named), of one version, or of one pipeline.
   */
  public ModelStatisticsResponse statistics(String model, String version) {
    ModelStatisticsResponse.Builder response = ModelStatisticsResponse.newBuilder();
    ServedPipelines.Entry pipeline = pipelines.get(model);
    if (model.isEmpty()) {
      for (ModelEntry entry : repository.models()) {
        entry.readyVersions().forEach(ready -> response.addModelStats(statistics(ready)));
      }
      pipelines.all().stream().filter(ServedPipelines.Entry::isReady)
          .forEach(served -> response.addModelStats(statistics(served.served())));
    } else if (pipeline != null) {
      pipeline.resolve(version);
      response.addModelStats(statistics(pipeline.served()));
    } else if (version.isEmpty()) {
      repository.resolve(model, "");
      repository.model(model).readyVersions().forEach(ready -> response.addModelStats(statistics(ready)));
    } else {
      response.addModelStats(statistics(repository.resolve(model, version)));
    }
    return response.build();
  }

  private static ModelStatistics statistics(ServedPipelines.ServedPipeline pipeline) {
    return statistics(pipeline.name(), pipeline.version(), pipeline.metrics().statistics());
  }

  private static ModelStatistics statistics(ModelVersion version) {
    return statistics(version.modelName(), version.versionString(), version.metrics().statistics());
  }

  private static ModelStatistics statistics(String name, String version,
      io.serval.server.metrics.ModelStatistics stats) {
    return stats.consistent(() -> statisticsOf(name, version, stats));
  }

  private static ModelStatistics statisticsOf(String name, String version,
      io.serval.server.metrics.ModelStatistics stats) {
    ModelStatistics.Builder builder = ModelStatistics.newBuilder();
    stats.batches().forEach((size, batch) -> builder.addBatchStats(InferBatchStatistics.newBuilder()
        .setBatchSize(size)
        .setComputeInput(duration(batch.computeInput()))
        .setComputeInfer(duration(batch.computeInfer()))
        .setComputeOutput(duration(batch.computeOutput()))));
    return builder
        .setName(name)
        .setVersion(version)
        .setLastInference(stats.lastInferenceMillis())
        .setInferenceCount(stats.inferenceCount())
        .setExecutionCount(stats.executionCount())
        .setInferenceStats(
            InferStatistics.newBuilder()
                .setSuccess(duration(stats.success()))
                .setFail(duration(stats.fail()))
                .setQueue(duration(stats.queue()))
                .setComputeInput(duration(stats.computeInput()))
                .setComputeInfer(duration(stats.computeInfer()))
                .setComputeOutput(duration(stats.computeOutput()))
                .setCacheHit(duration(stats.cacheHit()))
                .setCacheMiss(duration(stats.cacheMiss())))
        .build();
  }

  private static StatisticDuration duration(Duration duration) {
    return StatisticDuration.newBuilder().setCount(duration.count()).setNs(duration.nanos()).build();
  }

  /** Every model and served version with its state; a model whose configuration failed has one versionless entry. */
  public RepositoryIndexResponse repositoryIndex(boolean readyOnly) {
    RepositoryIndexResponse.Builder index = RepositoryIndexResponse.newBuilder();
    for (ModelEntry entry : repository.models()) {
      if (entry.versions().isEmpty()) {
        if (!readyOnly) {
          index.addModels(RepositoryIndexResponse.ModelIndex.newBuilder()
              .setName(entry.name())
              .setState("UNAVAILABLE")
              .setReason(entry.reason()));
        }
        continue;
      }
      for (ModelVersion version : entry.versions().values()) {
        if (readyOnly && !version.isReady()) {
          continue;
        }
        // A version serving while the model's latest change was refused carries that reason too.
        String reason = version.isReady() ? entry.reason() : version.reason();
        index.addModels(RepositoryIndexResponse.ModelIndex.newBuilder()
            .setName(entry.name())
            .setVersion(version.versionString())
            .setState(version.state().name())
            .setReason(reason));
      }
    }
    for (ServedPipelines.Entry pipeline : pipelines.all()) {
      if (readyOnly && !pipeline.isReady()) {
        continue;
      }
      RepositoryIndexResponse.ModelIndex.Builder entry = RepositoryIndexResponse.ModelIndex.newBuilder()
          .setName(pipeline.name())
          .setState(pipeline.isReady() ? "READY" : "UNAVAILABLE")
          .setReason(pipeline.reason());
      if (pipeline.isReady()) {
        entry.setVersion(pipeline.served().version());
      }
      index.addModels(entry);
    }
    for (ServedRoutes.Entry route : routes.all()) {
      if (readyOnly && route.route() == null) {
        continue;
      }
      index.addModels(RepositoryIndexResponse.ModelIndex.newBuilder()
          .setName(route.name())
          .setVersion(route.route() == null ? "" : "1")
          .setState(route.route() == null ? "UNAVAILABLE" : "READY")
          .setReason(route.reason()));
    }
    return index.build();
  }

  /** Whether the version a request names is ready; unknown models and versions are simply not ready. */
  public boolean modelReady(String model, String version) {
    try {
      if (composite(model, version) != null) {
        return true;
      }
      return repository.resolve(model, version).isReady();
    } catch (ServalException e) {
      return false;
    }
  }
}
