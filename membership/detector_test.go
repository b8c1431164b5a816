package membership_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ringtable/ringtable/membership"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/detector/*.txt")

// Detector scripts drive one Detector per file, in blocks
//
//	# comments and blank lines
//	<command> [args]
//	----
//	<what the step returned, up to the next blank line>
//
// Commands:
//
//	new [probe-every=N]   start again from a fresh detector
//	heard n2              n2 answered: prints "recovered" or "-"
//	missed n2             n2 did not answer: prints "failed" or "-"
//	tick [N]              N ticks (default 1): one line each, the probes due
//	reachable n2          prints true or false
//	unreachable           the peers believed down, or "(none)"
//	forget n2             n2 left the ring: prints "ok"
//
// A file starts with a detector from NewDetector.

type detectorBlock struct {
	pre  []string // comment and blank lines before the command
	pos  string   // file:line of the command
	cmd  string
	want string
}

func TestDetectorScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/detector/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no detector scripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			blocks, tail := readDetectorScript(t, file)
			d := membership.NewDetector()
			for i := range blocks {
				b := &blocks[i]
				got := runDetector(t, &d, b)
				if *rewrite {
					b.want = got
				} else if got != b.want {
					t.Errorf("%s: %s\ngot:\n%s\nwant:\n%s", b.pos, b.cmd, got, b.want)
				}
			}
			if *rewrite {
				writeDetectorScript(t, file, blocks, tail)
			}
		})
	}
}

func runDetector(t *testing.T, d **membership.Detector, b *detectorBlock) string {
	t.Helper()
	f := strings.Fields(b.cmd)
	arg := func() string {
		if len(f) != 2 {
			t.Fatalf("%s: %q wants one argument", b.pos, b.cmd)
		}
		return f[1]
	}
	mark := func(ok bool, word string) string {
		if ok {
			return word
		}
		return "-"
	}
	switch f[0] {
	case "new":
		*d = membership.NewDetector()
		for _, kv := range f[1:] {
			v, ok := strings.CutPrefix(kv, "probe-every=")
			n, err := strconv.Atoi(v)
			if !ok || err != nil {
				t.Fatalf("%s: bad argument %q", b.pos, kv)
			}
			(*d).ProbeEvery = n
		}
		return fmt.Sprintf("probe-every=%d", (*d).ProbeEvery)
	case "heard":
		return mark((*d).Heard(arg()), "recovered")
	case "missed":
		return mark((*d).Missed(arg()), "failed")
	case "reachable":
		return strconv.FormatBool((*d).Reachable(arg()))
	case "unreachable":
		if len(f) != 1 {
			t.Fatalf("%s: unreachable takes no argument", b.pos)
		}
		if u := (*d).Unreachable(); len(u) > 0 {
			return strings.Join(u, " ")
		}
		return "(none)"
	case "forget":
		(*d).Forget(arg())
		return "ok"
	case "tick":
		n := 1
		if len(f) == 2 {
			var err error
			if n, err = strconv.Atoi(f[1]); err != nil || n < 1 {
				t.Fatalf("%s: bad tick count %q", b.pos, f[1])
			}
		}
		var out []string
		for i := 1; i <= n; i++ {
			due := (*d).Tick()
			line := "-"
			if len(due) > 0 {
				line = "probe " + strings.Join(due, " ")
			}
			out = append(out, fmt.Sprintf("%d: %s", i, line))
		}
		return strings.Join(out, "\n")
	}
	t.Fatalf("%s: unknown command %q", b.pos, b.cmd)
	return ""
}

func readDetectorScript(t *testing.T, file string) (blocks []detectorBlock, tail []string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var pre []string
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" || strings.HasPrefix(lines[i], "#") {
			pre = append(pre, lines[i])
			continue
		}
		b := detectorBlock{pre: pre, pos: fmt.Sprintf("%s:%d", file, i+1), cmd: lines[i]}
		pre = nil
		if i++; i == len(lines) || lines[i] != "----" {
			t.Fatalf("%s: %q is not followed by ----", b.pos, b.cmd)
		}
		var out []string
		for i+1 < len(lines) && lines[i+1] != "" {
			i++
			out = append(out, lines[i])
		}
		b.want = strings.Join(out, "\n")
		blocks = append(blocks, b)
	}
	return blocks, pre
}

func writeDetectorScript(t *testing.T, file string, blocks []detectorBlock, tail []string) {
	t.Helper()
	var w strings.Builder
	for i, b := range blocks {
		if i > 0 && (len(b.pre) == 0 || b.pre[0] != "") {
			w.WriteString("\n")
		}
		for _, l := range b.pre {
			w.WriteString(l + "\n")
		}
		w.WriteString(b.cmd + "\n----\n")
		if b.want != "" {
			w.WriteString(b.want + "\n")
		}
	}
	for _, l := range tail {
		w.WriteString(l + "\n")
	}
	if err := os.WriteFile(file, []byte(w.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
