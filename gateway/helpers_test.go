package gateway_test

import (
	"errors"
	"sync"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// atOnce runs create(0) and create(1) at the same moment, as two clients
// of two gateways would, and returns their errors.
func atOnce(create func(g int) error) [2]error {
	var errs [2]error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[g] = create(g)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}
