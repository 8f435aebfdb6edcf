package shop_test

import (
	"testing"

	"github.com/actord/actord/examples/shop"
	"github.com/actord/actord/schema"
)

// order_created.avsc, the file tools use, is the schema the Go type
// derives: same fingerprint, so records `actord produce --schema` writes
// decode in the example services.
func TestAvscMatchesStruct(t *testing.T) {
	file, err := schema.Load("order_created.avsc")
	if err != nil {
		t.Fatal(err)
	}
	derived := shop.OrderCreatedSchema()
	if file.Fingerprint() != derived.Fingerprint() {
		t.Fatalf("order_created.avsc and shop.OrderCreated differ:\nfile:    %s\nderived: %s", file.Canonical(), derived.Canonical())
	}
}
