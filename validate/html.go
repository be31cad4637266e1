package validate

import (
	"encoding/base64"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"
)

// WriteHTML writes the self-contained HTML report: no external file,
// script or font; the timeline pictures are inline SVG and the receipts
// PNG data: URIs.
func WriteHTML(w io.Writer, r *Report) error {
	pass, fail, na := r.Counts()
	data := struct {
		*Report
		Pass, Fail, NA int
		Cases          []htmlCase
	}{Report: r, Pass: pass, Fail: fail, NA: na}
	for _, c := range r.Cases {
		hc := htmlCase{CaseResult: c, SVG: template.HTML(timelineSVG(c.Started, c.Timeline))} // #nosec: every text escaped
		if c.Receipt != nil && len(c.Receipt.PNG) > 0 {
			hc.ReceiptURI = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(c.Receipt.PNG))
		}
		for _, ex := range c.Gateway {
			hc.Calls = append(hc.Calls, htmlCall{Exchange: ex, Params: sortedParams(ex.Params), Offset: offset(ex.At.Sub(c.Started))})
		}
		data.Cases = append(data.Cases, hc)
	}
	return reportTmpl.Execute(w, data)
}

type htmlCase struct {
	CaseResult
	SVG        template.HTML
	ReceiptURI template.URL
	Calls      []htmlCall
}

type htmlCall struct {
	Exchange
	Params [][2]string
	Offset string
}

func sortedParams(p map[string]string) [][2]string {
	out := make([][2]string, 0, len(p))
	for k, v := range p {
		out = append(out, [2]string{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"lower": func(v Verdict) string { return strings.ToLower(strings.ReplaceAll(string(v), "/", "")) },
	"ok": func(b bool) string {
		if b {
			return "PASS"
		}
		return "FAIL"
	},
	"ts":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000 MST") },
	"dur": func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"off": func(start, t time.Time) string { return offset(t.Sub(start)) },
}).Parse(reportHTML))

const reportHTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>tillbridge certification — {{if .Passed}}PASSED{{else}}FAILED{{end}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1240px;color:#1d2330;padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #e3e7ee;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}td,th{border:1px solid #dde2ea;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f9}code,pre,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
pre{background:#f6f8fa;padding:8px;overflow:auto;max-height:320px;white-space:pre-wrap;word-break:break-all}
.badge{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:600;color:#fff}
.pass{background:#1f883d}.fail{background:#cf222e}.na{background:#8c959f}
.vpass{color:#1f883d;font-weight:600}.vfail{color:#cf222e;font-weight:600}.vna{color:#8c959f;font-weight:600}
.case{border:1px solid #dde2ea;border-radius:8px;padding:12px 16px;margin:18px 0}
.meta{color:#57606a}.grid{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}
.receipt img{border:1px solid #ccc;max-width:300px;box-shadow:0 1px 4px #0002}
svg.timeline{background:#fcfdff;border:1px solid #e3e7ee;border-radius:6px;max-width:100%;height:auto}
svg .actor{fill:#24292f}svg .actor-t{fill:#fff;font:600 12px sans-serif}svg .life{stroke:#c7ced9;stroke-dasharray:4 4}
svg .t{font:11px monospace;fill:#6e7781}svg .lt{font:11px monospace;fill:#24292f}svg .nt{font:11px monospace;fill:#24292f}
svg .msg{stroke:#57606a;stroke-width:1.4}svg .msg.good{stroke:#1f883d}svg .msg.bad{stroke:#cf222e}svg .msg.warn{stroke:#bf8700}
svg .lt.good{fill:#1a7f37}svg .lt.bad{fill:#cf222e}svg .lt.warn{fill:#9a6700}
svg .note{fill:#eef2ff;stroke:#8096d8}svg .note.good{fill:#dafbe1;stroke:#4ac26b}svg .note.bad{fill:#ffebe9;stroke:#ff8182}svg .note.warn{fill:#fff8c5;stroke:#d4a72c}
</style></head><body>
<h1>tillbridge go-live certification <span class="badge {{if .Passed}}pass{{else}}fail{{end}}">{{if .Passed}}PASSED{{else}}FAILED{{end}}</span></h1>
<p class="meta">against <b>{{.Against}}</b> — gateway <code>{{.Gateway}}</code>, partner <code>{{.Partner}}</code>, sign type {{.SignType}}{{if .Version}}, tillbridge {{.Version}}{{end}}<br>
started {{ts .Started}}, finished {{ts .Finished}} — {{.Pass}} passed, {{.Fail}} failed, {{.NA}} not applicable.
Keys and signatures are never shown; signatures and buyer codes are masked (first 4 / last 4 characters).</p>

<h2>Pre-flight checks</h2>
<table><tr><th>check</th><th>result</th><th>detail</th></tr>
{{range .Preflight}}<tr><td>{{.Name}}</td><td class="v{{if .OK}}pass{{else}}fail{{end}}">{{ok .OK}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>

<h2>Cases</h2>
<table><tr><th>case</th><th>title</th><th>verdict</th><th>took</th><th>reason</th></tr>
{{range .Cases}}<tr><td><a href="#{{.ID}}">{{.ID}}</a></td><td>{{.Title}}</td><td class="v{{lower .Verdict}}">{{.Verdict}}</td><td>{{dur .Took}}</td><td>{{.Reason}}</td></tr>
{{end}}</table>
{{if .Cleanup}}<h2>Refunds of the test payments</h2>
<table>{{range .Cleanup}}<tr><td>{{.Name}}</td><td class="v{{if .OK}}pass{{else}}fail{{end}}">{{ok .OK}}</td><td>{{.Detail}}</td></tr>{{end}}</table>{{end}}

{{range .Cases}}{{$c := .}}
<div class="case" id="{{.ID}}">
<h2>{{.ID}} — {{.Title}} <span class="badge {{lower .Verdict}}">{{.Verdict}}</span></h2>
<p><b>Expected:</b> {{.Expect}}{{if .Reason}}<br><b>Reason:</b> {{.Reason}}{{end}}<br><span class="meta">started {{ts .Started}}, took {{dur .Took}}</span></p>
{{if .Checks}}<h3>Checks</h3><table>{{range .Checks}}<tr><td>{{.Name}}</td><td class="v{{if .OK}}pass{{else}}fail{{end}}">{{ok .OK}}</td><td class="mono">{{.Detail}}</td></tr>{{end}}</table>{{end}}
{{if .Timeline}}<h3>Timeline</h3>{{.SVG}}{{end}}
<div class="grid"><div style="flex:1;min-width:600px">
{{if .Journal}}<h3>Journal</h3>
{{range .Journal}}<p class="mono"><b>{{.Kind}} {{.Ref}}</b> — {{.State}}{{if .Reason}} ({{.Reason}}){{end}}, {{.Amount}} {{.Currency}}, partner_trans_id {{.PartnerTransID}}{{if .RefundID}}, partner_refund_id {{.RefundID}}{{end}}{{if .AlipayTransID}}, alipay_trans_id {{.AlipayTransID}}{{end}}</p>
<table><tr><th>+t</th><th>event</th><th>call</th><th>state</th><th>code</th><th>detail</th></tr>
{{range .Events}}<tr class="mono"><td>{{off $c.Started .At}}</td><td>{{.Name}}</td><td>{{.Call}}</td><td>{{.From}} → {{.To}}</td><td>{{.Code}}</td><td>{{.Detail}}</td></tr>{{end}}</table>{{end}}{{end}}
<h3>Ledger check</h3>
{{if .Ledger.Available}}<table>{{range .Ledger.Lines}}<tr><td>{{.Name}}</td><td class="v{{if .OK}}pass{{else}}fail{{end}}">{{ok .OK}}</td><td class="mono">{{.Detail}}</td></tr>{{else}}<tr><td>no trades to compare</td></tr>{{end}}</table>
{{else}}<p class="meta">The gateway has no ledger API: reconcile these trades with Alipay's transaction file.</p>{{end}}
</div>
{{if .Receipt}}<div class="receipt"><h3>Receipt ({{.Receipt.Source}})</h3>{{if .ReceiptURI}}<img alt="receipt preview" src="{{.ReceiptURI}}">{{else}}<pre>{{.Receipt.Text}}</pre>{{end}}</div>{{end}}
</div>
{{if .Calls}}<h3>Gateway requests and answers</h3>
{{range .Calls}}<details><summary class="mono">+{{.Offset}} {{.Service}} → {{if .Error}}{{.Error}}{{else}}HTTP {{.HTTP}} {{.Result}}{{end}} ({{dur .Took}})</summary>
<table>{{range .Params}}<tr class="mono"><td>{{index . 0}}</td><td>{{index . 1}}</td></tr>{{end}}</table>
{{if .Answer}}<pre>{{.Answer}}</pre>{{end}}</details>
{{end}}{{end}}
</div>
{{end}}
</body></html>
`
