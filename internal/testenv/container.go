package testenv

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Images used when no local binaries exist but Docker does.
const (
	postgresImage = "postgres:16-alpine"
	redisImage    = "redis:7-alpine"
)

var (
	dockerOnce sync.Once
	dockerOK   bool
)

// dockerAvailable reports whether testcontainers can reach a Docker daemon. Without one
// it answers in well under a millisecond.
func dockerAvailable() bool {
	dockerOnce.Do(func() {
		defer func() {
			if recover() != nil { // the provider has been seen to panic without a daemon
				dockerOK = false
			}
		}()
		p, err := testcontainers.NewDockerProvider()
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		dockerOK = p.Health(ctx) == nil // Health closes the provider
	})
	return dockerOK
}

// startPostgresContainer runs PostgreSQL in Docker (trust auth, fsync off) and returns an
// admin DSN. The container is terminated by Main (else by testcontainers' reaper).
func startPostgresContainer() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := testcontainers.Run(ctx, postgresImage,
		testcontainers.WithEnv(map[string]string{"POSTGRES_HOST_AUTH_METHOD": "trust"}),
		testcontainers.WithExposedPorts("5432/tcp"),
		testcontainers.WithCmd("postgres", "-c", "fsync=off", "-c", "synchronous_commit=off",
			"-c", "full_page_writes=off", "-c", "max_connections=200"),
		// The image's entrypoint restarts the server once after init: wait for the 2nd "ready".
		testcontainers.WithWaitStrategy(
			wait.ForLog("database system is ready to accept connections").WithOccurrence(2),
			wait.ForListeningPort("5432/tcp")),
	)
	if c != nil {
		onStop(func() { _ = testcontainers.TerminateContainer(c) })
	}
	if err != nil {
		return "", fmt.Errorf("testcontainers %s: %w", postgresImage, err)
	}
	ep, err := c.PortEndpoint(ctx, "5432/tcp", "")
	if err != nil {
		return "", fmt.Errorf("testcontainers %s endpoint: %w", postgresImage, err)
	}
	return "postgres://postgres@" + ep + "/postgres?sslmode=disable", nil
}

// startRedisContainer runs Redis in Docker without persistence and returns its URL.
func startRedisContainer() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := testcontainers.Run(ctx, redisImage,
		testcontainers.WithExposedPorts("6379/tcp"),
		testcontainers.WithCmd("redis-server", "--save", "", "--appendonly", "no"),
		testcontainers.WithWaitStrategy(
			wait.ForLog("Ready to accept connections"),
			wait.ForListeningPort("6379/tcp")),
	)
	if c != nil {
		onStop(func() { _ = testcontainers.TerminateContainer(c) })
	}
	if err != nil {
		return "", fmt.Errorf("testcontainers %s: %w", redisImage, err)
	}
	ep, err := c.PortEndpoint(ctx, "6379/tcp", "")
	if err != nil {
		return "", fmt.Errorf("testcontainers %s endpoint: %w", redisImage, err)
	}
	return "redis://" + ep + "/0", nil
}
