package shell

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
)

// TestInteractiveSession drives the shell through a pseudo-terminal, as a
// user would: history from an earlier session comes back with the up
// arrow, Tab completes a table name, a statement spans lines, Ctrl-C drops
// the line being typed, and two PUTs with the same explicit CONTEXT show
// up as two siblings.
func TestInteractiveSession(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	history := filepath.Join(t.TempDir(), "history")
	env := []string{
		"RINGTABLE_SHELL_PTY_CHILD=1",
		"RINGTABLE_GATEWAY=" + c.Gateways[0].URL,
		"RINGTABLE_API_KEY=" + c.TenantKey,
		"RINGTABLE_HISTORY=" + history,
	}

	// First session: create a table, leave with Ctrl-D.
	s := startTerminal(t, env)
	s.expect("ringtable> ")
	s.send("CREATE TABLE users (id PARTITION KEY);\r")
	s.expect("table users created")
	s.expect("ringtable> ")
	s.send("\x04")
	s.wait(0)

	// Second session: the up arrow recalls the first session's statement;
	// Ctrl-C drops it rather than running it again.
	s = startTerminal(t, env)
	s.expect("ringtable> ")
	s.send("\x1b[A")
	s.expect("CREATE TABLE users (id PARTITION KEY);")
	s.send("\x03")
	s.expect("^C")
	s.expect("ringtable> ")

	// Tab completes the table name (fetched from the gateway at start).
	s.send("PUT INTO us\t")
	s.expect("PUT INTO users ")
	s.send(`KEY ('alice') VALUE {"city": "Lyon"};` + "\r")
	s.expect("OK")
	s.expect("ringtable> ")

	// A statement over two lines: a continuation prompt, then the result.
	s.send("GET FROM users\r")
	s.expect("       ... ")
	s.send("KEY ('alice');\r")
	s.expect("Lyon")
	s.expect("(1 row)")
	s.expect("ringtable> ")

	// Two writes from the same read (explicit CONTEXT) are concurrent.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	item, err := c.Client(0).Get(ctx, "users", client.Key{PK: "alice"}, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, city := range []string{"Nice", "Rome"} {
		s.send(`PUT INTO users KEY ('alice') VALUE {"city": "` + city + `"} CONTEXT '` + item.Context + `';` + "\r")
		s.expect("OK")
		s.expect("ringtable> ")
	}
	s.send("GET FROM users KEY ('alice');\r")
	s.expect("sibling")
	s.expect("1/2")
	s.expect("2/2")
	s.expect("(2 rows)")
	s.expect("users/alice has 2 siblings")
	s.expect("ringtable> ")

	// WATCH runs until Ctrl-C, which reaches the shell as SIGINT (the
	// terminal is in cooked mode meanwhile); a gateway without feeds says
	// so at once.
	s.send("WATCH users;\r")
	if s.expectAny("Watching users for changes", "change feeds are not available on this gateway") == 0 {
		s.send("\x03")
		s.expect("Stopped watching users.")
	}
	s.expect("ringtable> ")

	// COPY TO asks before it replaces a file; only yes replaces it.
	export := filepath.Join(t.TempDir(), "users.jsonl")
	if err := os.WriteFile(export, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.send("COPY users TO '" + export + "';\r")
	s.expect("users.jsonl exists (8 bytes); replace it? [y/N] ")
	s.send("\r")
	s.expect("Not exported; " + export + " is as it was.")
	s.expect("ringtable> ")
	if data, err := os.ReadFile(export); err != nil || string(data) != "keep me\n" {
		t.Fatalf("after declining: %q %v", data, err)
	}
	s.send("COPY users TO '" + export + "';\r")
	s.expect("replace it? [y/N] ")
	s.send("y\r")
	s.expect("Exported 1 item (2 versions) to " + export)
	s.expect("ringtable> ")
	if data, err := os.ReadFile(export); err != nil || strings.Count(string(data), "\n") != 2 {
		t.Fatalf("after replacing: %q %v", data, err)
	}

	s.send("\\quit\r")
	s.wait(0)
	s.mu.Lock()
	if strings.Contains(s.out.String(), "table exists") {
		t.Error("the recalled CREATE TABLE ran despite Ctrl-C")
	}
	s.mu.Unlock()
	if testing.Verbose() {
		s.mu.Lock()
		t.Logf("second session's screen:\n%s", escapes.ReplaceAllString(s.out.String(), ""))
		s.mu.Unlock()
	}

	data, err := os.ReadFile(history)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CREATE TABLE users (id PARTITION KEY);", "PUT INTO users KEY ('alice')", "KEY ('alice');", `\quit`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("history lacks %q:\n%s", want, data)
		}
	}
}

// terminal is a shell running on a pseudo-terminal.
// On a terminal that reports no width, Tab still completes (readline
// rang the bell: it lays candidates out by the width).
func TestCompletionWithoutTerminalWidth(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{})
	s := startTerminalSized(t, []string{
		"RINGTABLE_SHELL_PTY_CHILD=1",
		"RINGTABLE_GATEWAY=" + c.Gateways[0].URL,
		"RINGTABLE_API_KEY=" + c.TenantKey,
		"RINGTABLE_HISTORY=" + filepath.Join(t.TempDir(), "history"),
	}, &pty.Winsize{})
	s.expect("ringtable> ")
	s.send("SEL\t")
	s.expect("SELECT ")
	s.send("\x04")
}

type terminal struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	out  strings.Builder // everything the shell wrote
	seen int             // how much of out expect has consumed
	done chan struct{}
}

func startTerminal(t *testing.T, env []string) *terminal {
	t.Helper()
	return startTerminalSized(t, env, &pty.Winsize{Rows: 50, Cols: 400})
}

// startTerminalSized starts the shell on a terminal of the given size; a
// serial line or a container's first moments report 0 by 0.
func startTerminalSized(t *testing.T, env []string, size *pty.Winsize) *terminal {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	f, err := pty.StartWithSize(cmd, size)
	if err != nil {
		t.Fatal(err)
	}
	s := &terminal{t: t, cmd: cmd, pty: f, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				return // EIO once the child has exited
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = f.Close()
		<-s.done
		_ = cmd.Wait()
	})
	return s
}

func (s *terminal) send(keys string) {
	s.t.Helper()
	if _, err := io.WriteString(s.pty, keys); err != nil {
		s.t.Fatalf("write to terminal: %v", err)
	}
}

// escapes matches the terminal control sequences readline writes.
var escapes = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|[\r\a]`)

// expect waits until the screen text after the last match contains want.
func (s *terminal) expect(want string) {
	s.t.Helper()
	s.expectAny(want)
}

// expectAny waits for the first of wants to appear and returns its index.
func (s *terminal) expectAny(wants ...string) int {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s.mu.Lock()
		text := escapes.ReplaceAllString(s.out.String(), "")
		s.mu.Unlock()
		rest := text[min(s.seen, len(text)):]
		best, at := -1, len(rest)
		for i, w := range wants {
			if j := strings.Index(rest, w); j >= 0 && j < at {
				best, at = i, j
			}
		}
		if best >= 0 {
			s.seen += at + len(wants[best])
			return best
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %q; the terminal shows after the last match:\n%s", wants, rest)
		}
		time.Sleep(10 * time.Millisecond) // polling the terminal's output
	}
}

// wait waits for the shell to exit with code.
func (s *terminal) wait(code int) {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.t.Fatal("the shell did not exit")
	}
	err := s.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil && code == 0:
	case errors.As(err, &ee) && ee.ExitCode() == code:
	default:
		s.mu.Lock()
		defer s.mu.Unlock()
		s.t.Fatalf("shell exited with %v, want code %d; output:\n%s", err, code, s.out.String())
	}
}
