package gateway_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/internal/testcluster"
)

// Two gateways creating one table name at the same moment, with different
// partition keys: at most one create succeeds, and the table is the one
// it made, so that no client writes into a table it did not ask for.
func TestTableNameRace(t *testing.T) {
	c := testcluster.New(t, testcluster.Options{Gateways: 2})
	ctx := context.Background()
	const names = 20
	created, bothRefused := 0, 0
	for i := 0; i < names; i++ {
		name := fmt.Sprintf("race%d", i)
		errs := atOnce(func(g int) error {
			_, err := c.Client(g).CreateTable(ctx, client.Table{Name: name, PartitionKey: fmt.Sprintf("pk%d", g)})
			return err
		})
		winner := -1
		for g, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("%s: both gateways created it", name)
			case err == nil:
				winner = g
			case !client.IsStatus(err, 409):
				t.Fatalf("create %s: %v, want success or 409", name, err)
			}
		}
		if winner < 0 {
			bothRefused++
			continue
		}
		created++
		for g := range errs {
			tb, err := c.Client(g).DescribeTable(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("pk%d", winner); tb.PartitionKey != want {
				t.Errorf("%s through gateway %d: partition key %q, want %q, as created through gateway %d", name, g, tb.PartitionKey, want, winner)
			}
		}
	}
	t.Logf("%d names created by one of two gateways at once, %d refused by both", created, bothRefused)
}
