package validate

import (
	"fmt"
	"html"
	"strings"
	"time"
)

// Geometry of the timeline picture.
const (
	svgWidth    = 1180
	svgTimeCol  = 70
	svgTop      = 44
	svgRow      = 24
	svgMaxRows  = 240
	svgLabelMax = 60
)

// svgActors are the lifelines, left to right.
func svgActors() []string { return []string{ActorECR, ActorDaemon, ActorJournal, ActorGateway} }

func actorX(a string) int {
	actors := svgActors()
	span := (svgWidth - svgTimeCol - 170) / (len(actors) - 1)
	for i, x := range actors {
		if x == a {
			return svgTimeCol + 40 + i*span
		}
	}
	return svgTimeCol + 40
}

// timelineSVG draws a case's timeline as a sequence diagram: one lifeline
// per actor (ECR, tillbridge, journal, gateway), one row per message or
// journal transition, the time since the case started on the left.
func timelineSVG(start time.Time, entries []Entry) string {
	rows := entries
	cut := 0
	if len(rows) > svgMaxRows {
		cut, rows = len(rows)-svgMaxRows, rows[:svgMaxRows]
	}
	h := svgTop + (len(rows)+1)*svgRow + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="timeline">`,
		svgWidth, h, svgWidth, h)
	b.WriteString(`<defs><marker id="arr" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">` +
		`<path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>`)
	for _, a := range svgActors() {
		x := actorX(a)
		fmt.Fprintf(&b, `<rect x="%d" y="6" width="120" height="24" rx="4" class="actor"/>`, x-60)
		fmt.Fprintf(&b, `<text x="%d" y="23" text-anchor="middle" class="actor-t">%s</text>`, x, esc(a))
		fmt.Fprintf(&b, `<line x1="%d" y1="30" x2="%d" y2="%d" class="life"/>`, x, x, h-6)
	}
	for i, e := range rows {
		y := svgTop + i*svgRow + 14
		fmt.Fprintf(&b, `<text x="4" y="%d" class="t">+%s</text>`, y+4, esc(offset(e.At.Sub(start))))
		cls := entryClass(e)
		title := esc(e.Label + "\n" + e.Detail)
		if e.From == e.To {
			x := actorX(e.From)
			w := 7*len([]rune(clip(e.Label, svgLabelMax))) + 16
			fmt.Fprintf(&b, `<g><title>%s</title><rect x="%d" y="%d" width="%d" height="19" rx="3" class="note %s"/>`,
				title, x-w/2, y-10, w, cls)
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" class="nt">%s</text></g>`, x, y+4, esc(clip(e.Label, svgLabelMax)))
			continue
		}
		x1, x2 := actorX(e.From), actorX(e.To)
		mid := (x1 + x2) / 2
		fmt.Fprintf(&b, `<g><title>%s</title><line x1="%d" y1="%d" x2="%d" y2="%d" class="msg %s" marker-end="url(#arr)"/>`,
			title, x1, y+4, x2, y+4, cls)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" class="lt %s">%s</text></g>`, mid, y, cls, esc(clip(e.Label, svgLabelMax)))
	}
	if cut > 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="t">… %d more entries in the JSON report</text>`, svgTimeCol, h-8, cut)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// entryClass colours an entry: failures red, success green, gateway blue.
func entryClass(e Entry) string {
	l := e.Label
	switch {
	case strings.HasPrefix(l, "✕") || strings.Contains(l, "SYSTEM_ERROR") || strings.Contains(l, "ERROR") ||
		strings.HasPrefix(l, "kill"):
		return "bad"
	case strings.Contains(l, "APPROVED") || strings.Contains(l, "TRADE_SUCCESS") || strings.Contains(l, "REFUNDED") ||
		strings.HasSuffix(l, "→ paid") || strings.HasSuffix(l, "→ refunded"):
		return "good"
	case strings.Contains(l, "CANCEL") || strings.Contains(l, "DECLINED") || strings.Contains(l, "UNKNOW") ||
		strings.Contains(l, "WAIT_BUYER"):
		return "warn"
	case e.From == ActorJournal:
		return "jr"
	}
	return ""
}

func offset(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf("%.3fs", d.Seconds())
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func esc(s string) string { return html.EscapeString(s) }
