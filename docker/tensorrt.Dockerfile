# Serval with the TensorRT engine, for NVIDIA hosts. Not built in CI (it has no GPU); see
# engine-gpu-tensorrt/README.md.
#
#   docker build -f docker/tensorrt.Dockerfile -t serval-tensorrt .
#   docker run --rm --gpus all -p 8000:8000 -p 8001:8001 -p 8002:8002 \
#     -v "$PWD/models:/models" -v serval-plans:/plans serval-tensorrt
#
# The host needs an NVIDIA driver new enough for CUDA 13.3 and the NVIDIA container toolkit, which mounts the
# driver into the container. TensorRT, cuDNN and the CUDA libraries come inside Bytedeco's -redist jars, so the
# runtime image needs only the CUDA base layer (its environment tells the toolkit what to mount), not a TensorRT
# install. Pick a CUDA_IMAGE tag that exists for your registry mirror and driver.

ARG CUDA_IMAGE=nvidia/cuda:13.0.0-base-ubuntu24.04

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -DskipTests -Dcds.skip=true install \
 && mvn -B -q -pl engine-gpu-tensorrt -Pnvidia -Djavacpp.platform=linux-x86_64 \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=target/gpu-lib \
 && mkdir -p /serval/lib \
 && cp server/target/serval-server.jar /serval/ \
 && cp -r server/target/lib/. /serval/lib/ \
 && cp engine-gpu-tensorrt/target/serval-engine-gpu-tensorrt-*.jar engine-gpu-tensorrt/target/gpu-lib/*.jar /serval/lib/

FROM ${CUDA_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /serval /opt/serval
COPY docker/healthcheck /opt/serval/healthcheck
# As docker/Dockerfile: a numeric non-root user, memory from the container's limit, readiness as health.
# Plans built from ONNX models are kept in /plans: mount a volume there so a restart does not rebuild them.
RUN groupadd --system --gid 10001 serval \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin serval \
 && mkdir -p /plans && chown 10001:10001 /plans \
 && printf 'engines:\n  tensorrt:\n    plan_cache: /plans\n' > /opt/serval/serval.yaml
ENV SERVAL_CONFIG=/opt/serval/serval.yaml \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
USER 10001:10001
EXPOSE 8000 8001 8002
HEALTHCHECK --interval=10s --timeout=3s --start-period=300s --retries=3 CMD ["/opt/serval/healthcheck"]
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=40", "-XX:+ExitOnOutOfMemoryError", \
  "-cp", "/opt/serval/serval-server.jar:/opt/serval/lib/*", "io.serval.server.Main"]
CMD ["--model_repositories=/models"]
