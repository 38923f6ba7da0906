// grule-harness runs GRL rule sets on JSON CloudEvents with the Grule rule engine itself, so
// eventrunner's compiled engine can be compared with it (test/unit/rules/differential.test.ts) and
// measured against it (bench/rules). It reads the same GRL and the same events as eventrunner.
//
//	grule-harness run   -rules FILE [-max-cycles N]            < events.jsonl > results.jsonl
//	grule-harness bench -rules FILE -events FILE [-seconds S] [-max-cycles N]
//
// eventrunner's actions Route(), Drop() and DeadLetter() are not Grule built-ins; the harness
// rewrites them to methods of a fact named ER (outside strings and comments) before building.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/hyperjumptech/grule-rule-engine/ast"
	"github.com/hyperjumptech/grule-rule-engine/builder"
	"github.com/hyperjumptech/grule-rule-engine/engine"
	"github.com/hyperjumptech/grule-rule-engine/pkg"
)

// Actions collects what the rules asked for; its methods are called from the rewritten GRL.
type Actions struct {
	routes  map[string]bool
	dropped bool
	dead    *string
}

func (a *Actions) Route(name string) { a.routes[name] = true }
func (a *Actions) Drop()             { a.dropped = true }
func (a *Actions) DeadLetter(reason string) {
	if a.dead == nil {
		a.dead = &reason
	}
}

var actionNames = map[string]bool{"Route": true, "Drop": true, "DeadLetter": true}

// rewriteActions prefixes Route/Drop/DeadLetter calls with "ER.", skipping strings and comments.
func rewriteActions(src string) string {
	var b strings.Builder
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(src) && src[j] != c {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j < len(src) {
				j++
			}
			b.WriteString(src[i:j])
			i = j
		case strings.HasPrefix(src[i:], "//"):
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			b.WriteString(src[i : i+j])
			i += j
		case strings.HasPrefix(src[i:], "/*"):
			j := strings.Index(src[i+2:], "*/")
			end := len(src)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(src[i:end])
			i = end
		case isIdentStart(c):
			j := i
			for j < len(src) && (isIdentStart(src[j]) || src[j] == '_' || (src[j] >= '0' && src[j] <= '9')) {
				j++
			}
			word := src[i:j]
			prev := strings.TrimRight(src[:i], " \t\r\n")
			if actionNames[word] && !strings.HasSuffix(prev, ".") {
				b.WriteString("ER.")
			}
			b.WriteString(word)
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isIdentStart(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80 }

func build(path string) (*ast.KnowledgeBase, error) {
	grl, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lib := ast.NewKnowledgeLibrary()
	rb := builder.NewRuleBuilder(lib)
	if err := rb.BuildRuleFromResource("er", "1", pkg.NewBytesResource([]byte(rewriteActions(string(grl))))); err != nil {
		return nil, err
	}
	return lib.NewKnowledgeBaseInstance("er", "1")
}

type result struct {
	Outcome string          `json:"outcome"`
	Routes  []string        `json:"routes"`
	Reason  string          `json:"reason,omitempty"`
	Error   string          `json:"error,omitempty"`
	Event   json.RawMessage `json:"event"`
}

// execute runs the knowledge base on one event; the KnowledgeBase instance is reused, as
// Execute resets its working memory and retractions first.
func execute(eng *engine.GruleEngine, kb *ast.KnowledgeBase, event []byte) (*Actions, ast.IDataContext, error) {
	acts := &Actions{routes: map[string]bool{}}
	dctx := ast.NewDataContext()
	if err := dctx.AddJSON("event", event); err != nil {
		return acts, nil, err
	}
	if err := dctx.Add("ER", acts); err != nil {
		return acts, nil, err
	}
	return acts, dctx, eng.Execute(dctx, kb)
}

func runMode(eng *engine.GruleEngine, kb *ast.KnowledgeBase) error {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		line := in.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		acts, dctx, err := execute(eng, kb, line)
		r := result{Routes: []string{}, Event: json.RawMessage(line)}
		if dctx != nil {
			if ev, merr := json.Marshal(dctx.Get("event").Value().Interface()); merr == nil {
				r.Event = ev
			} else if err == nil {
				err = merr
			}
		}
		switch {
		case err != nil:
			r.Outcome, r.Error = "deadletter", err.Error()
		case acts.dead != nil:
			r.Outcome, r.Reason = "deadletter", *acts.dead
		case acts.dropped:
			r.Outcome = "dropped"
		default:
			r.Outcome = "routed"
			for k := range acts.routes {
				r.Routes = append(r.Routes, k)
			}
			sort.Strings(r.Routes)
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return in.Err()
}

func readEvents(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var events [][]byte
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) != "" {
			events = append(events, []byte(l))
		}
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("%s holds no events", path)
	}
	return events, nil
}

// benchMode measures events per second on one goroutine for about the given duration.
func benchMode(eng *engine.GruleEngine, kb *ast.KnowledgeBase, events [][]byte, seconds float64) error {
	// Warm up on up to 200 events or half a second, whichever comes first.
	warm := time.Now()
	for i := 0; i < 200 && time.Since(warm) < 500*time.Millisecond; i++ {
		if _, _, err := execute(eng, kb, events[i%len(events)]); err != nil {
			return err
		}
	}
	// Throughput is measured in 100 ms slices and the median slice is reported, as bench/rules
	// does for eventrunner: a slice in which the process was descheduled does not decide the figure.
	deadline := time.Duration(seconds * float64(time.Second))
	start := time.Now()
	var rates []float64
	n := 0
	for time.Since(start) < deadline {
		sliceStart := time.Now()
		k := 0
		for time.Since(sliceStart) < 100*time.Millisecond {
			if _, _, err := execute(eng, kb, events[(n+k)%len(events)]); err != nil {
				return err
			}
			k++
		}
		rates = append(rates, float64(k)/time.Since(sliceStart).Seconds())
		n += k
	}
	sort.Float64s(rates)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"events": n, "seconds": time.Since(start).Seconds(), "slices": len(rates), "eventsPerSec": rates[len(rates)/2],
	})
}

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "run" && os.Args[1] != "bench") {
		fmt.Fprintln(os.Stderr, "usage: grule-harness run|bench -rules FILE [-events FILE] [-seconds S] [-max-cycles N]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	rules := fs.String("rules", "", "GRL file")
	eventsPath := fs.String("events", "", "JSONL events (bench)")
	seconds := fs.Float64("seconds", 2, "measuring time (bench)")
	maxCycles := fs.Uint64("max-cycles", 5000, "Grule MaxCycle")
	_ = fs.Parse(os.Args[2:])

	kb, err := build(*rules)
	if err != nil {
		fmt.Fprintf(os.Stderr, "grule-harness: building %s: %v\n", *rules, err)
		os.Exit(1)
	}
	eng := engine.NewGruleEngine()
	eng.MaxCycle = *maxCycles
	if os.Args[1] == "run" {
		err = runMode(eng, kb)
	} else {
		var events [][]byte
		if events, err = readEvents(*eventsPath); err == nil {
			err = benchMode(eng, kb, events, *seconds)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "grule-harness: %v\n", err)
		os.Exit(1)
	}
}
