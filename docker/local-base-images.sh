#!/usr/bin/env bash
# Makes the two base images docker/Dockerfile needs without a container registry, from Debian's packages only:
#   serval-local/build:17  Debian 12 + OpenJDK 17 JDK + Maven   (the Dockerfile's BUILD_IMAGE)
#   serval-local/jre:17    Debian 12 + OpenJDK 17 JRE, headless (the Dockerfile's RUNTIME_IMAGE)
# and tags the plain Debian image alpine:3.17, the image Testcontainers starts for its own checks, which it would
# otherwise pull. Where a registry is reachable none of this is needed: docker/Dockerfile defaults to the official
# Eclipse Temurin images.
#
# Usage (as root, with a running Docker engine and the debootstrap package):
#   docker/local-base-images.sh          # builds what is missing, about 2 minutes the first time
#   docker/local-base-images.sh --force  # builds all three again
set -euo pipefail

release=bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
debian=serval-local/debian:$release
force=${1:-}

have() { [ -z "$force" ] && docker image inspect "$1" >/dev/null 2>&1; }

if ! have "$debian"; then
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  echo "local-base-images: debootstrap $release from $mirror"
  debootstrap --variant=minbase "$release" "$rootfs" "$mirror" >/dev/null
  # The downloaded packages and package lists are not part of an image; apt-get update fetches the lists again.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' - "$debian" >/dev/null
fi

# An image from $debian plus Debian packages. The build image also trusts the certificate authorities this machine
# added to its own (/usr/local/share/ca-certificates: a TLS-inspecting egress proxy's, say), so that Maven inside
# the Dockerfile's build stage reaches Maven Central the way Maven on this machine does.
with_packages() {
  local image=$1 host_cas=$2
  shift 2
  if have "$image"; then
    return
  fi
  echo "local-base-images: $image ($*)"
  local context
  context=$(mktemp -d)
  mkdir "$context/cas"
  if [ "$host_cas" = with-host-cas ]; then
    cp /usr/local/share/ca-certificates/*.crt "$context/cas/" 2>/dev/null || true
  fi
  cat >"$context/Dockerfile" <<EOF
FROM $debian
COPY cas/ /usr/local/share/ca-certificates/
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $* >/dev/null \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
EOF
  docker build -q -t "$image" "$context" >/dev/null
  rm -rf "$context"
}

with_packages serval-local/build:17 with-host-cas openjdk-17-jdk-headless maven ca-certificates
with_packages serval-local/jre:17 without-host-cas openjdk-17-jre-headless
docker tag "$debian" alpine:3.17
docker images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^(serval-local/|alpine:3.17)'
