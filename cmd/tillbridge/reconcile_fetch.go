package main

import (
	"context"
	"errors"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/recon"
)

// fetchForDay gets the day's files from the configured source.
func fetchForDay(ctx context.Context, cfg *daemon.Config, data, day string, st *recon.Store) (string, string, error) {
	return "", "", usageErr(errors.New("--file is required (no [reconcile] source configured)"))
}
