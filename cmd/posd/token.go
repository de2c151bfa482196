package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"posd/engine"
)

// runToken makes a new owner token directly in the database: the way back
// in for an owner who lost theirs. It needs the machine itself (and posd
// stopped), which is the proof of ownership.
func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token", "--data-dir DIR [--business ID] [--name NAME]", stdout)
	dir := fs.String("data-dir", defaultDataDir(), "data directory")
	dbURL := addDatabaseFlag(fs)
	bizID := fs.String("business", "", "business ID (needed when the database holds more than one)")
	name := fs.String("name", "owner (recovered)", "a name for the new token")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openDatabase(ctx, *dir, *dbURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := engine.NewService(st)
	bizs, err := svc.Businesses(ctx)
	if err != nil {
		return err
	}
	var biz *engine.Business
	for _, b := range bizs {
		if b.ID == *bizID || (*bizID == "" && len(bizs) == 1) {
			biz = b
		}
	}
	if biz == nil {
		var ids []string
		for _, b := range bizs {
			ids = append(ids, fmt.Sprintf("%s (%s)", b.ID, b.Name))
		}
		return usageError{"choose a business with --business: " + strings.Join(ids, ", ")}
	}
	secret, err := svc.CreateOwnerToken(ctx, biz.ID, *name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "New owner token for %q.\n", biz.Name)
	printOwnerToken(stdout, secret)
	return nil
}
