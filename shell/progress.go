package shell

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is a progress bar on a terminal, and nothing elsewhere (nil).
type progress struct{ bar *progressbar.ProgressBar }

// newProgress draws a bar on w: of total bytes, or a spinner counting
// rows when total is -1.
func newProgress(on bool, w io.Writer, total int64, what string) *progress {
	if !on {
		return nil
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionShowCount(),
	}
	if total >= 0 {
		opts = append(opts, progressbar.OptionShowBytes(true))
	} else {
		opts = append(opts, progressbar.OptionSetItsString("rows"), progressbar.OptionShowIts(), progressbar.OptionSpinnerType(14))
	}
	return &progress{progressbar.NewOptions64(total, opts...)}
}

func (p *progress) add(n int) {
	if p != nil {
		_ = p.bar.Add(n)
	}
}

func (p *progress) set(n int64) {
	if p != nil {
		_ = p.bar.Set64(n)
	}
}

func (p *progress) finish() {
	if p != nil {
		_ = p.bar.Finish()
	}
}
