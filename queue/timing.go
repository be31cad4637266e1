package queue

import "time"

// beijing returns GMT+8, the time zone of Alipay's business day.
func beijing() *time.Location { return time.FixedZone("GMT+8", 8*60*60) }

// cancelWindowEnd is when acquire.cancel stops working for a trade created at
// t: the end of t's Beijing business day plus the grace period.
func cancelWindowEnd(t time.Time, grace time.Duration) time.Time {
	local := t.In(beijing())
	y, m, d := local.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, beijing()).Add(grace)
}

// backoff is the delay before retry n (1-based): min doubling, capped.
func backoff(n int, min, max time.Duration) time.Duration {
	d := min
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		return max
	}
	return d
}

// nextQuery is the first planned query time strictly after now: queries are
// planned at sent+first, sent+first+interval, … so that late attempts do not
// shift later ones. The result never passes the pay deadline.
func nextQuery(sent, now time.Time, first, interval, deadline time.Duration) time.Time {
	at := sent.Add(first)
	if now.Before(at) {
		return at
	}
	k := now.Sub(at)/interval + 1
	at = at.Add(k * interval)
	if end := sent.Add(deadline); at.After(end) {
		return end
	}
	return at
}
