package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"posd/engine"
)

func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("init", "--data-dir DIR [--database URL] [--business NAME] [--timezone TZ] [--currency CUR] [--json]", stdout)
	dir := fs.String("data-dir", defaultDataDir(), "data directory (created if missing)")
	dbURL := addDatabaseFlag(fs)
	name := fs.String("business", "My Shop", "business name")
	tz := fs.String("timezone", machineTimezone(), "IANA time zone of the shop, e.g. Europe/Berlin (document numbers use its months)")
	cur := fs.String("currency", "EUR", "ISO 4217 currency code")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	selfSigned := fs.Bool("tls-self-signed", false, "deprecated: also make the shop's HTTPS certificate authority and print its fingerprint (serve --tls-listen makes it when first needed)")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openDatabase(ctx, *dir, *dbURL, true)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := engine.NewService(st)
	biz, loc, secret, err := svc.CreateBusiness(ctx, engine.BusinessInput{Name: *name, Timezone: *tz, Currency: *cur})
	if err != nil {
		return fmt.Errorf("%s", engine.ErrorMessage(err)+fieldSuffix(err))
	}
	if *selfSigned {
		out := stdout
		if *asJSON {
			out = nil
		}
		if err := printCA(*dir, out); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]string{"businessId": biz.ID, "locationId": loc.ID, "ownerToken": secret})
	}
	fmt.Fprintf(stdout, "Created business %q (%s, %s) with location Main.\n", biz.Name, biz.Timezone, biz.Currency)
	fmt.Fprintf(stdout, "Business ID: %s\nLocation ID: %s\n", biz.ID, loc.ID)
	printOwnerToken(stdout, secret)
	return nil
}

// fieldSuffix names the flag an engine validation error is about.
func fieldSuffix(err error) string {
	f := engine.ErrorField(err)
	if f == "" {
		return ""
	}
	if f == "name" {
		f = "business"
	}
	return " (--" + f + ")"
}

func printOwnerToken(w io.Writer, secret string) {
	fmt.Fprintf(w, "\nOwner token (shown only this once; keep it safe, it can do everything):\n\n    %s\n\n", secret)
}
