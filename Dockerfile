# syntax=docker/dockerfile:1.7
# vidlib: one static binary, every subcommand (api, sync, consume, admin, all, demo, migrate).
#   docker build --build-arg VERSION=$(git describe --tags --always) -t vidlib .
#   docker run --rm -p 8080:8080 -p 9090:9090 vidlib demo
# Untested here (no Docker daemon on the build machine); the build stage runs the same
# `go build` that CI runs.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# Modules first, so that a source change reuses the downloaded modules.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/vidlib ./cmd/vidlib

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/vidlib /vidlib
USER nonroot:nonroot
# api, sync (webhooks), admin, metrics/health.
EXPOSE 8080 8081 8082 9090
ENTRYPOINT ["/vidlib"]
CMD ["all"]
