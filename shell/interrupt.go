package shell

import (
	"context"
	"sync"
	"sync/atomic"
)

// interruptible returns a context that Ctrl-C (Config.Interrupts) cancels
// while a statement runs, and a function that ends the watch and reports
// whether Ctrl-C came. The watching goroutine never outlives the call to
// that function.
func (s *Shell) interruptible(ctx context.Context) (context.Context, func() bool) {
	ctx, cancel := context.WithCancel(ctx)
	if s.cfg.Interrupts == nil {
		return ctx, func() bool { cancel(); return false }
	}
	// A Ctrl-C that came while nothing ran (between statements) is stale.
	for drained := false; !drained; {
		select {
		case <-s.cfg.Interrupts:
		default:
			drained = true
		}
	}
	var (
		hit  atomic.Bool
		wg   sync.WaitGroup
		done = make(chan struct{})
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-s.cfg.Interrupts:
			hit.Store(true)
			cancel()
		case <-done:
		}
	}()
	return ctx, func() bool {
		close(done)
		wg.Wait()
		cancel()
		return hit.Load()
	}
}
