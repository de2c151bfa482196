package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Location is a place that holds stock and where sales happen: a shop floor,
// a store room, a second branch.
type Location struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"createdAt"`
	BusinessID string    `json:"-"`
}

// LocationInput is the body of POST /locations.
type LocationInput struct {
	Name string `json:"name"`
}

// CreateLocation adds a location.
func (s *Service) CreateLocation(ctx context.Context, a *Actor, key IdempotencyKey, in LocationInput) (*Outcome[*Location], error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if err := checkText(name, "name", 1, 100); err != nil {
		return nil, err
	}
	return write(s, ctx, a, key, opCreateLocation, "", in, func(tx Tx, now time.Time) (*Location, DocRef, error) {
		l := &Location{ID: NewID(now), Name: name, CreatedAt: now, BusinessID: a.BusinessID}
		if err := tx.PutLocation(l); err != nil {
			return nil, DocRef{}, err
		}
		return l, DocRef{Kind: KindLocation, ID: l.ID}, nil
	})
}

// Locations lists the business's locations.
func (s *Service) Locations(ctx context.Context, a *Actor) ([]*Location, error) {
	var out []*Location
	err := s.view(ctx, a, PermRead, func(tx Tx) error {
		var err error
		out, err = tx.Locations(a.BusinessID)
		return err
	})
	return out, err
}

// getLocation loads a location of the business, blaming field if missing.
func getLocation(tx Tx, business, id, field string) (*Location, error) {
	if !validID(id) {
		if id == "" {
			return nil, fieldErr(field, "is required")
		}
		return nil, notFound("location", field)
	}
	l, err := tx.Location(business, id)
	if IsNotFound(err) {
		return nil, notFound("location", field)
	}
	return l, err
}

// locationLabels names each location of locs for people, by ID: by its
// name, and where two or more share one (a second "Main" after a move), by
// its place among them in the order they were added: "Main (1st)",
// "Main (2nd)". The back office names them by the same rule, so a finding
// and the screen that shows it agree; a piece of an ID tells an owner
// nothing.
func locationLabels(locs []*Location) map[string]string {
	byName := map[string][]*Location{}
	for _, l := range locs {
		byName[l.Name] = append(byName[l.Name], l)
	}
	out := make(map[string]string, len(locs))
	for name, same := range byName {
		if len(same) == 1 {
			out[same[0].ID] = name
			continue
		}
		// To the millisecond, as the office reads the times; IDs are
		// time-ordered and break a tie within one.
		slices.SortFunc(same, func(a, b *Location) int {
			if c := a.CreatedAt.Truncate(time.Millisecond).Compare(b.CreatedAt.Truncate(time.Millisecond)); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		for i, l := range same {
			out[l.ID] = fmt.Sprintf("%s (%s)", name, ordinal(i+1))
		}
	}
	return out
}

// ordinal writes a place in words: 1st, 2nd, 3rd, 4th, 11th, 21st.
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
