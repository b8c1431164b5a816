package storagenode_test

import "github.com/ringtable/ringtable/ring"

func uint32ToPart(p int) ring.Partition { return ring.Partition(p) }
