package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a server process started by this test binary.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid after done is closed
}

// startProc starts cmd so that the kernel kills it when this process dies
// (Pdeathsig SIGKILL, which survives the switch to another uid because Go sets it after
// the credentials).
//
// Pdeathsig fires when the OS thread that forked the child exits, not the process. The
// Go runtime may end threads (a goroutine that exits while locked to its thread takes
// the thread with it), so the child is started from a goroutine that locks its thread and
// stays in Wait until the child is gone: the forking thread outlives the child.
func startProc(cmd *exec.Cmd) (*proc, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	p := &proc{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// waitUp runs probe every interval until it succeeds, the process exits or
// timeout passes, and returns the last probe's error (naming the process
// and what the probe saw, when it exited).
func (p *proc) waitUp(name, what string, every, timeout time.Duration, probe func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := probe()
		if err == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s exited: %v; last %s: %w", name, p.err, what, err)
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-p.done:
		case <-time.After(every):
		}
	}
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig, waits up to grace, then kills.
func (p *proc) stop(sig os.Signal, grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago. Another process
// may take it before the server binds it; callers retry with a new port on failure.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

const ownerFile = "owner.pid"

// makeServerDir creates a temp dir under base whose name starts with prefix and records
// this process as its owner, first removing dirs of the same kind whose owner is gone.
func makeServerDir(base, prefix string) (string, error) {
	sweepStaleDirs(base, prefix)
	dir, err := os.MkdirTemp(base, prefix)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// sweepStaleDirs removes base/prefix* dirs left by test binaries that died without Main
// (their servers died with them). A dir without an owner file is left alone for a minute,
// since its creator may be about to write it.
func sweepStaleDirs(base, prefix string) {
	matches, _ := filepath.Glob(filepath.Join(base, prefix+"*"))
	for _, dir := range matches {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			if fi, serr := os.Stat(dir); serr == nil && time.Since(fi.ModTime()) > time.Minute {
				_ = os.RemoveAll(dir)
			}
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			_ = os.RemoveAll(dir)
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(dir)
		}
	}
}

// traversable reports whether every directory from / down to dir can be entered by uid
// (owner with u+x, or o+x; group bits are not trusted since we don't resolve groups).
func traversable(dir string, uid int) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		mode := fi.Mode().Perm()
		switch {
		case mode&0o001 != 0:
		case ok && int(st.Uid) == uid && mode&0o100 != 0:
		default:
			return fmt.Errorf("%s (mode %v) is not traversable by uid %d", p, mode, uid)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// tempBaseFor returns a temp directory under which a directory for uid can live: the
// first of $TMPDIR, /tmp, /var/tmp whose parents uid can traverse.
func tempBaseFor(uid int) (string, error) {
	var errs []error
	for _, base := range []string{os.TempDir(), "/tmp", "/var/tmp"} {
		err := traversable(base, uid)
		if err == nil {
			return base, nil
		}
		errs = append(errs, err)
	}
	return "", fmt.Errorf("no temp dir usable by uid %d: %w", uid, errors.Join(errs...))
}

// tailFile returns the last n bytes of a file, for error messages.
func tailFile(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := fi.Size() - n
	if off < 0 {
		off = 0
	}
	b := make([]byte, fi.Size()-off)
	_, _ = f.ReadAt(b, off)
	return strings.TrimSpace(string(b))
}
