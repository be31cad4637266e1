package sandbox

import "strconv"

// Scenario is the behaviour a buyer code selects: the last two digits of an
// 18-digit code starting with 28. Every other valid code, and every
// two-digit value not listed, is ScenarioPaid.
type Scenario int

// The scenario codes (docs/sandbox.md has the full table).
const (
	// ScenarioPaid (00–09 and anything not listed): paid at once.
	ScenarioPaid Scenario = 0
	// ScenarioConfirm (10): pay answers UNKNOW; the trade waits for
	// Config.ConfirmDelay, then becomes TRADE_SUCCESS.
	ScenarioConfirm Scenario = 10
	// ScenarioNeverConfirm (11): WAIT_BUYER_PAY until auto-close.
	ScenarioNeverConfirm Scenario = 11
	// ScenarioReject (12): WAIT_BUYER_PAY for Config.RejectDelay, then
	// TRADE_CLOSED.
	ScenarioReject Scenario = 12
	// ScenarioBalance (20): declined, BUYER_BALANCE_NOT_ENOUGH.
	ScenarioBalance Scenario = 20
	// ScenarioNoBuyer (21): declined, BUYER_NOT_EXIST.
	ScenarioNoBuyer Scenario = 21
	// ScenarioSystemError (30): SYSTEM_ERROR, no trade is created.
	ScenarioSystemError Scenario = 30
	// ScenarioLostAnswer (31): paid, but the connection is closed without
	// an answer.
	ScenarioLostAnswer Scenario = 31
	// ScenarioBadSign (32): paid, but the answer carries a wrong signature.
	ScenarioBadSign Scenario = 32
	// ScenarioConfirmQueryErrors (33): like 10, and the first 3 queries
	// answer SYSTEM_ERROR.
	ScenarioConfirmQueryErrors Scenario = 33
	// ScenarioNeverConfirmCancelErrors (34): like 11, and the first 3
	// cancels answer SYSTEM_ERROR.
	ScenarioNeverConfirmCancelErrors Scenario = 34
	// ScenarioSlowAnswer (35): paid, but the answer is held back for
	// Config.SlowPayDelay.
	ScenarioSlowAnswer Scenario = 35
)

// scenarioErrorCalls is how many queries (33) or cancels (34) fail first.
const scenarioErrorCalls = 3

// ScenarioOf returns the scenario a buyer code selects.
func ScenarioOf(code string) Scenario {
	if len(code) != 18 || code[:2] != "28" {
		return ScenarioPaid
	}
	n, err := strconv.Atoi(code[16:])
	if err != nil {
		return ScenarioPaid
	}
	switch s := Scenario(n); s {
	case ScenarioConfirm, ScenarioNeverConfirm, ScenarioReject, ScenarioBalance,
		ScenarioNoBuyer, ScenarioSystemError, ScenarioLostAnswer, ScenarioBadSign,
		ScenarioConfirmQueryErrors, ScenarioNeverConfirmCancelErrors, ScenarioSlowAnswer:
		return s
	}
	return ScenarioPaid
}

// declineCode is the error of a declining scenario, "" for the others.
func (s Scenario) declineCode() string {
	switch s {
	case ScenarioBalance:
		return CodeBalance
	case ScenarioNoBuyer:
		return CodeBuyerNotExist
	}
	return ""
}

// waitsForBuyer reports whether pay answers UNKNOW and the trade starts in
// WAIT_BUYER_PAY.
func (s Scenario) waitsForBuyer() bool {
	switch s {
	case ScenarioConfirm, ScenarioNeverConfirm, ScenarioReject,
		ScenarioConfirmQueryErrors, ScenarioNeverConfirmCancelErrors:
		return true
	}
	return false
}

// validBuyerCode reports whether code is 16–24 digits starting 25–30
// (reference §6.1).
func validBuyerCode(code string) bool {
	if len(code) < 16 || len(code) > 24 {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return code[:2] >= "25" && code[:2] <= "30"
}
