// Package fuzzer holds fuzzer functions for the shared types of
// pkg/apis/common, for the round-trip tests of every API group.
package fuzzer

import (
	"strconv"
	"strings"

	"sigs.k8s.io/randfill"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// durationUnits are the units of Flux's duration syntax.
var durationUnits = []string{"ms", "s", "m", "h"}

// Duration fills d with valid text in Flux's duration syntax, in the varied
// forms users write ("2m", "1.5h", "1h30m", "90s", "2m0s"), so round trips
// prove the text is kept as written.
func Duration(d *common.Duration, c randfill.Continue) {
	var b strings.Builder
	for parts := 1 + c.Intn(3); parts > 0; parts-- {
		b.WriteString(strconv.Itoa(c.Intn(1000)))
		if c.Intn(4) == 0 {
			b.WriteString("." + strconv.Itoa(c.Intn(100)))
		}
		b.WriteString(durationUnits[c.Intn(len(durationUnits))])
	}
	*d = common.Duration(b.String())
}
