package flow

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// LoadOptions bound a load run.
type LoadOptions struct {
	// Flows is how many flows to start (at least 1).
	Flows int
	// Concurrency is how many flows run at once (at least 1).
	Concurrency int
	// MaxDuration stops starting new flows after this long (zero: no limit besides Flows); flows already
	// started finish.
	MaxDuration time.Duration
}

// Stats summarise a load run.
type Stats struct {
	// Completed is the number of flows that completed.
	Completed int
	// Failed is the number of flows that failed.
	Failed int
	// Elapsed is the wall time of the run.
	Elapsed time.Duration
	// Latencies are the durations of the completed flows, sorted ascending.
	Latencies []time.Duration
	// StepMeans are the mean durations of each step over the completed flows.
	StepMeans [NumSteps]time.Duration
	// Errors counts the failures by their message (step, status, error code).
	Errors map[string]int
}

// Percentile is the p-th percentile (0 < p <= 100) of the completed flows' latencies, by the nearest-rank
// method; zero without completed flows.
func (s Stats) Percentile(p float64) time.Duration {
	if len(s.Latencies) == 0 || p <= 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(s.Latencies))))
	rank = min(max(rank, 1), len(s.Latencies))
	return s.Latencies[rank-1]
}

// PerSecond is completed flows per second of wall time.
func (s Stats) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Completed) / s.Elapsed.Seconds()
}

// Load runs opts.Flows flows of definitionID, opts.Concurrency at a time, and stops early when ctx ends or
// opts.MaxDuration has passed (flows in progress are cancelled with ctx, not with MaxDuration).
func (c *Client) Load(ctx context.Context, definitionID string, opts LoadOptions) (Stats, error) {
	if opts.Flows < 1 || opts.Concurrency < 1 {
		return Stats{}, fmt.Errorf("load: flows (%d) and concurrency (%d) must be at least 1", opts.Flows, opts.Concurrency)
	}
	var deadline time.Time
	begin := time.Now()
	if opts.MaxDuration > 0 {
		deadline = begin.Add(opts.MaxDuration)
	}
	jobs := make(chan struct{})
	type outcome struct {
		res Result
		err error
	}
	results := make(chan outcome, opts.Concurrency)
	var wg sync.WaitGroup
	for range min(opts.Concurrency, opts.Flows) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				res, err := c.Run(ctx, definitionID)
				results <- outcome{res, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for range opts.Flows {
			if ctx.Err() != nil || (!deadline.IsZero() && time.Now().After(deadline)) {
				return
			}
			select {
			case jobs <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()

	st := Stats{Errors: map[string]int{}}
	var sums [NumSteps]time.Duration
	for o := range results {
		if o.err != nil {
			st.Failed++
			st.Errors[describe(o.err)]++
			continue
		}
		st.Completed++
		st.Latencies = append(st.Latencies, o.res.Total)
		for i, d := range o.res.Steps {
			sums[i] += d
		}
	}
	st.Elapsed = time.Since(begin)
	slices.Sort(st.Latencies)
	if st.Completed > 0 {
		for i := range sums {
			st.StepMeans[i] = sums[i] / time.Duration(st.Completed)
		}
	}
	return st, nil
}

// describe is the failure's class: a StepError's step, status and code; the message of anything else.
func describe(err error) string {
	var se *StepError
	if errors.As(err, &se) {
		if se.Err != nil && se.Status == 0 {
			return se.Step.String() + ": transport error"
		}
		return (&StepError{Step: se.Step, Status: se.Status, Code: se.Code}).Error()
	}
	return err.Error()
}
