package ecrproto_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// docPath is the protocol document. Its examples (section 9) are
// generated from a run of the daemon: daemon.TestProtocolDocExamples.
const docPath = "../docs/ecr-protocol.md"

// TestDocListsEveryCode keeps the tables of the document complete.
func TestDocListsEveryCode(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{
		ecrproto.CodeFormat, ecrproto.CodeTooLarge, ecrproto.CodeType, ecrproto.CodeField, ecrproto.CodeRefConflict,
		ecrproto.CodeLaneBusy, ecrproto.CodeNotFound, ecrproto.CodeUnavailable, ecrproto.CodeInternal, ecrproto.CodeAuth,
		ecrproto.StatusApproved, ecrproto.StatusDeclined, ecrproto.StatusCancelled, ecrproto.StatusRefunded,
		ecrproto.StatusPending, ecrproto.StatusManual, ecrproto.StatusOK,
		ecrproto.EventWaitScan, ecrproto.EventScanned, ecrproto.EventSent, ecrproto.EventWaitBuyerConfirm,
		ecrproto.EventCancelling, ecrproto.EventPrinting, ecrproto.EventPrinterError,
	}
	for _, n := range names {
		if !bytes.Contains(doc, []byte("| `"+n+"`")) {
			t.Errorf("%s has no table row for %s", docPath, n)
		}
	}
}
