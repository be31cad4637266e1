package devices

// SpoolerOpener returns an Opener that prints through the Windows print
// spooler in RAW mode (OpenPrinter, StartDocPrinter with datatype "RAW",
// WritePrinter), so ESC/POS bytes reach the printer unchanged. printer is
// the Windows printer name as shown in "Printers & scanners". Each Write is
// one spooler document. The spooler cannot return status replies: Read
// returns ErrOneWay, so declare such printers one-way.
//
// On other systems the Opener fails with an "unsupported" error.
func SpoolerOpener(printer string) Opener { return spoolerOpener(printer) }
