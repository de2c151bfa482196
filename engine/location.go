package engine

import (
	"context"
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
