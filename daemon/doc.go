// Package daemon wires tillbridge together: it reads the configuration,
// listens for ECR connections, opens the payment journal and its engine, the
// Alipay gateway client and the lanes' devices, and runs the sale flow that
// turns ECR requests into journal operations and journal transitions into ECR
// events, results and receipts.
//
// Start-up order (see docs/daemon.md): the ECR listeners are opened first, so
// a till that connects early hears E_UNAVAILABLE instead of "connection
// refused"; then the journal engine, the gateway client and the devices are
// opened, and only then is the sale-flow handler installed.
//
// The package holds no package-level mutable state: everything hangs off a
// [Daemon], built by [New] from a [Config] and [Options].
package daemon
