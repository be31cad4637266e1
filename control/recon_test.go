package control

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/recon"
)

// TestJudgeRecon: a missing file after the alarm time is a problem (the
// status is unhealthy), a failed attempt or a day with exceptions a
// warning, a clean day or a job that is off nothing.
func TestJudgeRecon(t *testing.T) {
	for _, c := range []struct {
		st                *recon.JobStatus
		problems, warning string
	}{
		{nil, "", ""},
		{&recon.JobStatus{State: recon.JobScheduled}, "", ""},
		{&recon.JobStatus{State: recon.JobWaiting, Day: "2026-03-04"}, "", ""},
		{&recon.JobStatus{State: recon.JobAlarm, Day: "2026-03-04", Error: "no file"}, "still missing", ""},
		{&recon.JobStatus{State: recon.JobFailed, Day: "2026-03-04", Error: "boom"}, "", "failed"},
		{&recon.JobStatus{State: recon.JobDone, Day: "2026-03-04", Verdict: "OK"}, "", ""},
		{&recon.JobStatus{State: recon.JobDone, Day: "2026-03-04", Exceptions: 2,
			Verdict: "EXCEPTIONS: 2 (worst: paid_not_approved)"}, "", "paid_not_approved"},
	} {
		var problems, warnings []string
		judgeRecon(c.st, func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) },
			func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) })
		if got := strings.Join(problems, "|"); (c.problems == "") != (got == "") || !strings.Contains(got, c.problems) {
			t.Errorf("%+v: problems %q, want %q", c.st, got, c.problems)
		}
		if got := strings.Join(warnings, "|"); (c.warning == "") != (got == "") || !strings.Contains(got, c.warning) {
			t.Errorf("%+v: warnings %q, want %q", c.st, got, c.warning)
		}
	}
}
