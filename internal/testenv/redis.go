package testenv

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	redisOnce   sync.Once
	redisSrv    server
	redisClient *redis.Client // shared, for prefix cleanup
)

const redisMissing = "no Redis for tests: install it (`apt-get install redis-server`; testenv starts a " +
	"throw-away redis-server), or set " + EnvRedisURL + "=redis://host:6379/0, or start a Docker daemon"

// Redis returns the URL of a Redis server for this test and a key prefix unique to this
// test (like "t1f2e3d4c5b6a7980:"); at cleanup every key with that prefix is deleted. The
// server comes from VIDLIB_TEST_REDIS_URL, else a throw-away redis-server started once per
// test binary (--save "" --appendonly no), else testcontainers when Docker answers, else
// the test is skipped (failed under CI=true).
func Redis(t testing.TB) (url, prefix string) {
	t.Helper()
	redisOnce.Do(func() {
		redisSrv = resolveRedis()
		if redisSrv.url != "" {
			opt, err := redis.ParseURL(redisSrv.url)
			if err != nil {
				redisSrv.err = err
				return
			}
			redisClient = redis.NewClient(opt)
			onStop(func() { _ = redisClient.Close() })
		}
	})
	switch {
	case redisSrv.missing != "":
		unavailable(t, redisSrv.missing)
		return "", ""
	case redisSrv.err != nil:
		t.Fatalf("testenv: Redis: %v", redisSrv.err)
		return "", ""
	}
	prefix = "t" + randHex(8) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := deletePrefix(ctx, redisClient, prefix); err != nil {
			t.Errorf("testenv: delete Redis keys %s*: %v", prefix, err)
		}
	})
	return redisSrv.url, prefix
}

// deletePrefix unlinks every key starting with prefix, using SCAN (never KEYS). The prefix
// must not contain glob characters; ours are "t" + hex + ":".
func deletePrefix(ctx context.Context, c *redis.Client, prefix string) error {
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := c.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

func resolveRedis() server {
	if u := os.Getenv(EnvRedisURL); u != "" {
		opt, err := redis.ParseURL(u)
		if err != nil {
			return server{source: "env", err: fmt.Errorf("%s: %w", EnvRedisURL, err)}
		}
		c := redis.NewClient(opt)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Ping(ctx).Err(); err != nil {
			return server{source: "env", err: fmt.Errorf("%s is set but the server does not answer: %w", EnvRedisURL, err)}
		}
		return server{url: u, source: "env"}
	}
	if bin, err := exec.LookPath("redis-server"); err == nil {
		u, err := startLocalRedis(bin)
		if err != nil {
			return server{source: "local", err: fmt.Errorf("start throw-away redis-server: %w", err)}
		}
		return server{url: u, source: "local"}
	}
	if dockerAvailable() {
		u, err := startRedisContainer()
		if err != nil {
			return server{source: "container", err: err}
		}
		return server{url: u, source: "container"}
	}
	return server{missing: redisMissing}
}

// startLocalRedis runs redis-server in the foreground on a free port (no persistence)
// and returns its URL.
func startLocalRedis(bin string) (string, error) {
	dir, err := makeServerDir(os.TempDir(), "vidlib-testenv-redis-")
	if err != nil {
		return "", err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	logPath := filepath.Join(dir, "redis.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		cleanup()
		return "", err
	}
	defer logf.Close()

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return "", err
		}
		cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir, "--logfile", "")
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = logf, logf
		p, err := startProc(cmd)
		if err != nil {
			return "", fmt.Errorf("start redis-server: %w (log %s)", err, logPath)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := waitRedis(addr, p, 30*time.Second); err != nil {
			lastErr = err
			if p.exited() {
				continue // most likely the port was taken meanwhile
			}
			p.stop(syscall.SIGTERM, 5*time.Second)
			return "", fmt.Errorf("redis-server did not become ready: %w (log %s: %s)", err, logPath, tailFile(logPath, 800))
		}
		onStop(func() {
			p.stop(syscall.SIGKILL, time.Second) // nothing to save
			cleanup()
		})
		return "redis://" + addr + "/0", nil
	}
	return "", fmt.Errorf("redis-server exited during start-up 3 times, last: %w (log %s: %s)", lastErr, logPath, tailFile(logPath, 800))
}

// waitRedis sends PING until it gets +PONG, the process exits or the timeout passes.
func waitRedis(addr string, p *proc, timeout time.Duration) error {
	return p.waitUp("redis-server", "ping error", 5*time.Millisecond, timeout, func() error { return pingRedis(addr) })
}

func pingRedis(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}
