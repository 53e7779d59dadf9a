package ingest_test

import (
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ingest"
)

func TestMaskCustomer(t *testing.T) {
	t.Parallel()
	anna := parley.Customer{Name: "Anna-Lena Weber", Email: "alw@example.com", ID: "cust-5521"}
	tests := []struct {
		in   string
		who  parley.Customer
		keep string
		want string
	}{
		{"Hi, Anna-Lena here, order VO-482913 is late", anna, "", "Hi, [name] here, order [id] is late"},
		{"weber wrote from ALW@example.com, account cust-5521", anna, "", "[name] wrote from [email], account [id]"},
		{"My name is Tom Baker and my parcel #4829130 is lost", parley.Customer{}, "", "My name is [name] [name] and my parcel #[id] is lost"},
		{"Mein Name ist Jörg, Bestellnummer 10023456", parley.Customer{}, "", "Mein Name ist [name], Bestellnummer [id]"},
		{"Je m'appelle Élodie, commande A12B45", parley.Customer{}, "", "Je m'appelle [name], commande [id]"},
		{"Where is my order?\nThanks, Sam", parley.Customer{}, "", "Where is my order?\nThanks, [name]"},
		// The codes the answering knowledge names are the question's subject.
		{"What does error E-09 mean on my X200?", parley.Customer{}, "Error E-09: the X200's motor is blocked.", "What does error E-09 mean on my X200?"},
		{"Fehlercode E-12 bei Auftrag 55512345", parley.Customer{}, "Fehlercode E-12 ausgenommen", "Fehlercode E-12 bei Auftrag [id]"},
		// Dates, prices, quantities and short numbers stay.
		{"I paid 49.99 on 2024-05-01 for 2 pots of 25cm", parley.Customer{}, "", "I paid 49.99 on 2024-05-01 for 2 pots of 25cm"},
		{"Lieferung am 01.05.2024, 3 Stück", parley.Customer{}, "", "Lieferung am 01.05.2024, 3 Stück"},
		// Words that merely contain a name are not masked.
		{"Annabel asked about Webers' store", parley.Customer{Name: "Anna Weber"}, "", "Annabel asked about Webers' store"},
	}
	for _, tt := range tests {
		if got := ingest.MaskCustomer(tt.in, ingest.Identity{Customer: tt.who, Keep: tt.keep}); got != tt.want {
			t.Errorf("MaskCustomer(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizePhrasing(t *testing.T) {
	t.Parallel()
	for _, pair := range [][2]string{
		{"Where is my parcel?", "where is my parcel"},
		{"  WHERE is   my parcel!!", "where is my parcel"},
		{"Wie bekomme ich mein Geld zurück?", "wie bekomme ich mein geld zurück"},
	} {
		if got := ingest.NormalizePhrasing(pair[0]); got != pair[1] {
			t.Errorf("NormalizePhrasing(%q) = %q, want %q", pair[0], got, pair[1])
		}
	}
}
