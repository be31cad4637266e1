package soak

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// DefaultMix is the scenario mix of a soak: mostly instant payments, and
// every troublesome sandbox scenario at a few percent.
const DefaultMix = "00:70,10:5,11:3,12:3,20:5,21:2,30:3,31:3,32:2,33:2,34:1,35:1"

// PerfMix is the mix of the --perf runs: instant payments only.
const PerfMix = "00:1"

// Mix is a weighted choice of sandbox scenario codes (the last two digits
// of a buyer code, see docs/sandbox.md).
type Mix struct {
	codes   []string
	weights []int
	total   int
}

// MixError reports a malformed --mix value.
type MixError struct {
	// Item is the offending "code:weight" item.
	Item string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *MixError) Error() string { return fmt.Sprintf("mix item %q: %s", e.Item, e.Reason) }

// ParseMix parses "code:weight,code:weight,…": two-digit scenario codes
// with positive integer weights, each code at most once.
func ParseMix(s string) (Mix, error) {
	var m Mix
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		code, w, ok := strings.Cut(item, ":")
		if !ok {
			return Mix{}, &MixError{item, "want code:weight"}
		}
		if len(code) != 2 || code[0] < '0' || code[0] > '9' || code[1] < '0' || code[1] > '9' {
			return Mix{}, &MixError{item, "the code must be two digits"}
		}
		n, err := strconv.Atoi(w)
		if err != nil || n <= 0 {
			return Mix{}, &MixError{item, "the weight must be a positive integer"}
		}
		if seen[code] {
			return Mix{}, &MixError{item, "code listed twice"}
		}
		seen[code] = true
		m.codes, m.weights, m.total = append(m.codes, code), append(m.weights, n), m.total+n
	}
	return m, nil
}

// Pick returns a scenario code drawn at the mix's rates.
func (m Mix) Pick(r *rand.Rand) string {
	n := r.IntN(m.total)
	for i, w := range m.weights {
		if n < w {
			return m.codes[i]
		}
		n -= w
	}
	return m.codes[len(m.codes)-1]
}

// String renders the mix in ParseMix's syntax.
func (m Mix) String() string {
	parts := make([]string, len(m.codes))
	for i, c := range m.codes {
		parts[i] = c + ":" + strconv.Itoa(m.weights[i])
	}
	return strings.Join(parts, ",")
}

// Codes lists the mix's scenario codes in ascending order.
func (m Mix) Codes() []string {
	out := append([]string(nil), m.codes...)
	sort.Strings(out)
	return out
}

// BuyerCode returns an 18-digit sandbox buyer code starting 28 whose last
// two digits are scenario.
func BuyerCode(r *rand.Rand, scenario string) string {
	return fmt.Sprintf("28%014d%s", r.Int64N(1e14), scenario)
}

// Class names the latency class of a scenario code: the instant codes
// 00–09 (and any code the sandbox does not list) share one class, each
// listed troublesome code has its own.
func Class(scenario string) string {
	if name := scenarioName(scenario); name != "" {
		return scenario + " " + name
	}
	return "00 paid"
}

// scenarioName describes a troublesome sandbox scenario code
// (docs/sandbox.md), or returns "" for the instant ones.
func scenarioName(code string) string {
	switch code {
	case "10":
		return "confirm later"
	case "11":
		return "never confirms"
	case "12":
		return "rejects"
	case "20", "21":
		return "declined"
	case "30":
		return "system error"
	case "31":
		return "response lost"
	case "32":
		return "bad signature"
	case "33":
		return "confirm, query errors"
	case "34":
		return "never, cancel errors"
	case "35":
		return "slow pay"
	}
	return ""
}
