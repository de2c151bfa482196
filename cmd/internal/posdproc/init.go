package posdproc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
)

// Shop is what posd init --json prints: the new business, its first
// location and the owner's token.
type Shop struct {
	BusinessID string `json:"businessId"`
	LocationID string `json:"locationId"`
	OwnerToken string `json:"ownerToken"`
}

// Init runs bin's posd init --json on the data dir dir, adding a business
// of that name in UTC, and returns the new shop.
func Init(ctx context.Context, bin, dir, business string) (*Shop, error) {
	cmd := exec.CommandContext(ctx, bin, "init", "--data-dir", dir, "--business", business, "--timezone", "UTC", "--json")
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("posd init: %v: %s", err, bytes.TrimSpace(se.Bytes()))
	}
	var s Shop
	if err := json.Unmarshal(so.Bytes(), &s); err != nil || s.OwnerToken == "" {
		return nil, fmt.Errorf("posd init --json printed %q (%v)", so.String(), err)
	}
	return &s, nil
}
