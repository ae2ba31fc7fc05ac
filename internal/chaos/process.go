package chaos

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// ErrNotRunning is returned when a signal is sent to a node that is down.
var ErrNotRunning = errors.New("chaos: node is not running")

// Proc is one node's process across restarts. Its stdout and stderr, and a
// line for every signal the harness sends, go to the node's log file.
// Its methods are safe for concurrent use.
type Proc struct {
	Spec NodeSpec
	net  Network
	bin  string
	env  []string // extra environment (the admin password)
	args []string // extra arguments (log level)

	mu       sync.Mutex    // guards the fields below
	cmd      *exec.Cmd     // the current process; nil before the first Start
	done     chan struct{} // closed when cmd exits
	starts   int
	expected bool // the harness asked the process to exit
	paused   bool
	crashes  []Crash
}

// Crash is an exit the harness did not cause.
type Crash struct {
	Node string    `json:"node"`
	At   time.Time `json:"at"`
	Exit string    `json:"exit"`
}

// NewProc prepares node n's process; it does not start it.
func NewProc(n NodeSpec, nw Network, bin string, env, args []string) *Proc {
	return &Proc{Spec: n, net: nw, bin: bin, env: env, args: args}
}

// Mark appends a line from the harness to the node's log.
func (p *Proc) Mark(format string, a ...any) {
	f, err := os.OpenFile(p.Spec.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "=== chaos %s: %s ===\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, a...))
}

// Start starts the node (again). It does not wait for it to be ready.
func (p *Proc) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !isDone(p.done) {
		return fmt.Errorf("chaos: %s is already running", p.Spec.ID)
	}
	f, err := os.OpenFile(p.Spec.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	p.starts++
	fmt.Fprintf(f, "=== chaos %s: start #%d ===\n", time.Now().Format("15:04:05.000"), p.starts)
	args := append([]string{"node", "--config", p.Spec.Config}, p.args...)
	cmd := p.net.Command(p.Spec, p.bin, args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = f, f
	// Own process group: a Ctrl-C at the terminal reaches the harness
	// only, which then stops the nodes. Pdeathsig: no node outlives a
	// harness that dies hard.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("chaos: start %s: %w", p.Spec.ID, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.expected, p.paused = cmd, done, false, false
	go func() {
		err := cmd.Wait()
		f.Close()
		p.mu.Lock()
		if !p.expected {
			p.crashes = append(p.crashes, Crash{Node: p.Spec.ID, At: time.Now(), Exit: fmt.Sprint(err)})
		}
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Running reports whether the process is alive (paused counts as alive).
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && !isDone(p.done)
}

// Paused reports whether the harness has stopped the process (SIGSTOP).
func (p *Proc) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

// Pid answers the current process id (0 when down).
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || isDone(p.done) {
		return 0
	}
	return p.cmd.Process.Pid
}

// Crashes answers the exits the harness did not cause.
func (p *Proc) Crashes() []Crash {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Crash(nil), p.crashes...)
}

// signal sends sig; exiting says the harness expects the process to exit.
func (p *Proc) signal(sig syscall.Signal, exiting bool) (chan struct{}, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || isDone(p.done) {
		return nil, ErrNotRunning
	}
	if exiting {
		p.expected = true
	}
	switch sig {
	case syscall.SIGSTOP:
		p.paused = true
	case syscall.SIGCONT:
		p.paused = false
	}
	return p.done, p.cmd.Process.Signal(sig)
}

// Kill sends SIGKILL and waits for the exit.
func (p *Proc) Kill() error {
	p.Mark("SIGKILL")
	done, err := p.signal(syscall.SIGKILL, true)
	if err != nil {
		return err
	}
	<-done
	return nil
}

// Pause sends SIGSTOP.
func (p *Proc) Pause() error {
	p.Mark("SIGSTOP")
	_, err := p.signal(syscall.SIGSTOP, false)
	return err
}

// Resume sends SIGCONT.
func (p *Proc) Resume() error {
	p.Mark("SIGCONT")
	_, err := p.signal(syscall.SIGCONT, false)
	return err
}

// Terminate sends SIGTERM and answers how long the process took to exit.
// A process still alive after stall gets SIGQUIT (the Go runtime prints
// every goroutine's stack into the log and exits), and SIGKILL 5 s later;
// stalled is then true.
func (p *Proc) Terminate(stall time.Duration) (took time.Duration, stalled bool, err error) {
	p.Mark("SIGTERM")
	start := time.Now()
	p.mu.Lock()
	paused := p.paused
	p.mu.Unlock()
	if paused { // a stopped process would not see SIGTERM until continued
		_ = p.Resume()
	}
	done, err := p.signal(syscall.SIGTERM, true)
	if err != nil {
		return 0, false, err
	}
	select {
	case <-done:
		return time.Since(start), false, nil
	case <-time.After(stall):
	}
	p.Mark("still running %v after SIGTERM: SIGQUIT for a goroutine dump", stall)
	_, _ = p.signal(syscall.SIGQUIT, true)
	select {
	case <-done:
		return time.Since(start), true, nil
	case <-time.After(5 * time.Second):
	}
	p.Mark("still running after SIGQUIT: SIGKILL")
	_, _ = p.signal(syscall.SIGKILL, true)
	<-done
	return time.Since(start), true, nil
}
