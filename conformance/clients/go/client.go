// A TruIdentidad client on Go's standard library only (net/http), written from
// conformance/README.md's contract alone. Run it with `go run conformance/clients/go/client.go
// [-defect NAME]` (no module or dependency needed).
//
// Polite: a form-encoded create with Truora-API-Key on every request; a 5 s timeout per
// request; polls paced like Truora's SDK (1, 2, 4, 8, 16, 30 s) times a random factor in
// [1.1, 1.3]; Retry-After honoured and kept as a floor; exponential back-off (1 s, x2, cap
// 30 s, same jitter) on 5xx, 429, resets and timeouts, giving up after 5 errors in a row; stop
// at a terminal state; give up before TRUORA_POLL_DEADLINE_SECONDS (from the first request). A
// create whose outcome is unknown (no response, or a 5xx other than 503) is re-sent once,
// after a jittered wait of at least 1 s, as the contract allows.
//
// net/http itself re-sends an idempotent GET once when a reused keep-alive connection fails
// before any response; the suite counts that as a transport retry, not a poll.
//
// `-defect tight-retry` breaks one rule on purpose (min-poll-interval): after an error it
// re-polls after 100 ms instead of backing off.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

const (
	requestTimeout     = 5 * time.Second
	maxErrorsInARow    = 5
	exitDeliberateStop = 3
)

var schedule = []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second}

// transient is a failure worth retrying: no response, 5xx, 429.
type transient struct {
	msg        string
	status     int
	retryAfter *time.Duration
}

func (e *transient) Error() string { return e.msg }

// fatal is a failure a retry cannot fix: stop and report it.
type fatal struct{ reason, msg string }

func (e *fatal) Error() string { return e.msg }

type client struct {
	base, key, account string
	deadline           time.Duration
	tightRetry         bool
	http               *http.Client
	floor              time.Duration
	firstRequest       time.Time
}

func longer(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

func logf(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }

func jittered(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (1.1 + 0.2*rand.Float64()))
}

func parseRetryAfter(v string) *time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if n, err := strconv.Atoi(v); err == nil {
		d := time.Duration(n) * time.Second
		return &d
	}
	if t, err := http.ParseTime(v); err == nil {
		d := time.Until(t)
		if d < 0 {
			d = 0
		}
		return &d
	}
	return nil
}

func (c *client) send(req *http.Request) (map[string]any, error) {
	if c.firstRequest.IsZero() {
		c.firstRequest = time.Now()
	}
	req.Header.Set("Truora-API-Key", c.key)
	what := req.Method + " " + req.URL.Path
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &transient{msg: what + ": " + err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &transient{msg: what + ": " + err.Error(), status: resp.StatusCode}
	}
	if resp.StatusCode == 429 || resp.StatusCode >= 500 {
		return nil, &transient{msg: fmt.Sprintf("%s: %d", what, resp.StatusCode), status: resp.StatusCode, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
	}
	if resp.StatusCode >= 400 {
		return nil, &fatal{reason: fmt.Sprintf("http_%d", resp.StatusCode), msg: fmt.Sprintf("%s: %d %.200s", what, resp.StatusCode, body)}
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, &transient{msg: what + ": unreadable body", status: resp.StatusCode}
	}
	return v, nil
}

func (c *client) waitAfterError(errs int, t *transient) time.Duration {
	if c.tightRetry {
		return 100 * time.Millisecond
	}
	if t.retryAfter != nil {
		if *t.retryAfter > c.floor {
			c.floor = *t.retryAfter
		}
		return jittered(longer(*t.retryAfter, time.Second))
	}
	shift := errs - 1
	if shift > 5 {
		shift = 5
	}
	backoff := time.Second << shift
	if backoff > 30*time.Second {
		backoff = 30 * time.Second
	}
	return jittered(longer(backoff, c.floor))
}

func (c *client) create() (string, error) {
	form := url.Values{"type": {"government"}, "account_id": {c.account}, "user_authorized": {"true"}}.Encode()
	errs, ambiguous := 0, 0
	for {
		req, _ := http.NewRequest(http.MethodPost, c.base+"/v1/validations", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		v, err := c.send(req)
		if err == nil {
			id, _ := v["validation_id"].(string)
			if id == "" {
				return "", &fatal{reason: "no_validation_id", msg: "the create's answer has no validation_id"}
			}
			return id, nil
		}
		var t *transient
		if !errors.As(err, &t) {
			return "", err
		}
		if t.status != 429 && t.status != 503 {
			// The validation may exist: re-send once, after a wait.
			ambiguous++
			if ambiguous > 1 {
				return "", &fatal{reason: "create_outcome_unknown", msg: t.msg + "; the create failed twice without an answer"}
			}
		}
		errs++
		if errs >= maxErrorsInARow {
			return "", &fatal{reason: "create_failed", msg: t.msg}
		}
		wait := c.waitAfterError(errs, t)
		if !c.tightRetry && wait < time.Second {
			wait = jittered(time.Second)
		}
		logf("%s; retrying the create in %s", t.msg, wait)
		time.Sleep(wait)
	}
}

func (c *client) run() (map[string]string, error) {
	id, err := c.create()
	if err != nil {
		return nil, err
	}
	logf("created %s", id)
	step, errs := 0, 0
	wait := jittered(longer(schedule[0], c.floor))
	for {
		if time.Since(c.firstRequest)+wait > c.deadline {
			logf("%s: still pending at the deadline, giving up", id)
			return map[string]string{"validation_id": id, "validation_status": "pending"}, nil
		}
		time.Sleep(wait)
		req, _ := http.NewRequest(http.MethodGet, c.base+"/v1/validations/"+url.PathEscape(id), nil)
		v, err := c.send(req)
		var t *transient
		if errors.As(err, &t) {
			errs++
			if errs >= maxErrorsInARow {
				logf("%s: %d errors in a row, giving up: %s", id, errs, t.msg)
				return map[string]string{"validation_id": id, "validation_status": "pending"}, nil
			}
			wait = c.waitAfterError(errs, t)
			logf("%s; backing off %s", t.msg, wait)
			continue
		}
		if err != nil {
			return nil, err
		}
		errs = 0
		status, _ := v["validation_status"].(string)
		failure, _ := v["failure_status"].(string)
		if status == "success" || status == "failure" || failure != "" {
			out := map[string]string{"validation_id": id, "validation_status": status}
			if failure != "" {
				out["failure_status"] = failure
			}
			return out, nil
		}
		step++
		if step >= len(schedule) {
			step = len(schedule) - 1
		}
		wait = jittered(longer(schedule[step], c.floor))
	}
}

func main() {
	defect := flag.String("defect", "", "break one rule on purpose: tight-retry")
	flag.Parse()
	base, key, account := os.Getenv("TRUORA_API_BASE_URL"), os.Getenv("TRUORA_API_KEY"), os.Getenv("TRUORA_ACCOUNT_ID")
	if base == "" || key == "" || account == "" {
		logf("TRUORA_API_BASE_URL, TRUORA_API_KEY and TRUORA_ACCOUNT_ID must be set")
		os.Exit(2)
	}
	deadline := 300
	if d, err := strconv.Atoi(os.Getenv("TRUORA_POLL_DEADLINE_SECONDS")); err == nil {
		deadline = d
	}
	c := &client{
		base:       strings.TrimRight(base, "/"),
		key:        key,
		account:    account,
		deadline:   time.Duration(deadline) * time.Second,
		tightRetry: *defect == "tight-retry",
		http:       &http.Client{Timeout: requestTimeout},
		floor:      time.Second,
	}
	out, err := c.run()
	if err != nil {
		reason := "error"
		var f *fatal
		if errors.As(err, &f) {
			reason = f.reason
		}
		logf("error: %s", err)
		line, _ := json.Marshal(map[string]string{"validation_status": "error", "error": reason})
		fmt.Println(string(line))
		os.Exit(exitDeliberateStop)
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
}
