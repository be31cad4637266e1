-- 0001: the journal. Times are Unix milliseconds (UTC); amounts are integer
-- minor units of their currency.

CREATE TABLE operations (
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('sale', 'refund')),
    lane              TEXT NOT NULL,
    ref               TEXT NOT NULL,
    parent_id         TEXT REFERENCES operations(id),
    state             TEXT NOT NULL,
    partner_trans_id  TEXT NOT NULL,
    partner_refund_id TEXT,
    amount            INTEGER NOT NULL CHECK (amount > 0),
    currency          TEXT NOT NULL,
    subject           TEXT NOT NULL DEFAULT '',
    terminal          TEXT NOT NULL DEFAULT '',
    buyer_masked      TEXT NOT NULL DEFAULT '',
    attempts          INTEGER NOT NULL DEFAULT 0,
    state_attempts    INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER,
    pay_sent_at       INTEGER,
    cancel_requested  INTEGER NOT NULL DEFAULT 0,
    auto              INTEGER NOT NULL DEFAULT 0,
    reason            TEXT NOT NULL DEFAULT '',
    last_code         TEXT NOT NULL DEFAULT '',
    alipay_trans_id   TEXT NOT NULL DEFAULT '',
    buyer_login       TEXT NOT NULL DEFAULT '',
    amount_cny        TEXT NOT NULL DEFAULT '',
    exchange_rate     TEXT NOT NULL DEFAULT '',
    paid_at           INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    final_at          INTEGER,
    version           INTEGER NOT NULL DEFAULT 1,
    UNIQUE (lane, kind, ref),
    CHECK ((kind = 'refund') = (partner_refund_id IS NOT NULL)),
    CHECK ((kind = 'refund') = (parent_id IS NOT NULL))
);

-- One trade per partner_trans_id: a sale never gets a second one.
CREATE UNIQUE INDEX operations_partner_trans_id ON operations (partner_trans_id) WHERE kind = 'sale';
CREATE UNIQUE INDEX operations_partner_refund_id ON operations (partner_refund_id) WHERE kind = 'refund';
-- The scheduler's due list: only operations with something to do.
CREATE INDEX operations_due ON operations (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX operations_state ON operations (state);
CREATE INDEX operations_created ON operations (created_at);
CREATE INDEX operations_parent ON operations (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE events (
    seq          INTEGER PRIMARY KEY,
    op_id        TEXT NOT NULL REFERENCES operations(id),
    at           INTEGER NOT NULL,
    name         TEXT NOT NULL,
    call         TEXT NOT NULL DEFAULT '',
    from_state   TEXT NOT NULL,
    to_state     TEXT NOT NULL,
    gateway_code TEXT NOT NULL DEFAULT '',
    raw_status   TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT ''
);

CREATE INDEX events_op ON events (op_id, seq);

-- The event log is append-only: the audit trail cannot be rewritten.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
