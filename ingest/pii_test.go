package ingest_test

import (
	"testing"

	"github.com/parleyhq/parley/ingest"
)

func TestMaskPII(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		// e-mail
		{"mail jane.doe+billing@mail.example.co.uk please", "mail [email] please"},
		{"Contact: SUPPORT@ACME.COM.", "Contact: [email]."},
		{"@mention and name@localhost are not addresses", "@mention and name@localhost are not addresses"},

		// phone numbers
		{"call +1 (555) 123-4567 now", "call [phone] now"},
		{"my number is 555-123-4567.", "my number is [phone]."},
		{"(555) 123-4567", "[phone]"},
		{"+44 20 7946 0958", "[phone]"},
		{"ring 020 7946 0958 after 6", "ring [phone] after 6"},
		{"+4930123456", "[phone]"},
		{"0049 30 1234567", "[phone]"},
		{"portable : 06 12 34 56 78", "portable : [phone]"},
		{"+33 6 12 34 56 78", "[phone]"},
		{"555.123.4567", "[phone]"},
		{"Tel. 030/1234567", "Tel. [phone]"},
		{"call 5551234567", "call [phone]"},
		{"reach me at 555-1234", "reach me at [phone]"},

		// payment cards (Luhn-valid) and IBANs
		{"card 4111 1111 1111 1111 exp 12/27", "card [card] exp 12/27"},
		{"4111-1111-1111-1111", "[card]"},
		{"378282246310005", "[card]"},
		{"paid in 2024 with 5555 5555 5555 4444 ok", "paid in 2024 with [card] ok"},
		{"IBAN DE89 3704 0044 0532 0130 00 THANKS", "IBAN [iban] THANKS"},
		{"GB82WEST12345698765432", "[iban]"},

		// must NOT be masked
		{"It costs $1,234,567.89 or €1 234 567,00", "It costs $1,234,567.89 or €1 234 567,00"},
		{"Total: 1 234 567 EUR", "Total: 1 234 567 EUR"},
		{"price 1234567.50", "price 1234567.50"},
		{"ordered on 2024-01-15 at 10:30", "ordered on 2024-01-15 at 10:30"},
		{"on 2024-01-15 10:30:00", "on 2024-01-15 10:30:00"},
		{"due 15.01.2024 or 01/15/2024", "due 15.01.2024 or 01/15/2024"},
		{"order A12345678 and ORD-2024-1234567", "order A12345678 and ORD-2024-1234567"},
		{"order #12345678", "order #12345678"},
		{"Order number: 1234567890", "Order number: 1234567890"},
		{"tracking 123-456-7890-12", "tracking 123-456-7890-12"},
		{"ticket 12345678", "ticket 12345678"},
		{"from 1999 to 2023, 1999-2023, 2019 2020 2021", "from 1999 to 2023, 1999-2023, 2019 2020 2021"},
		{"version 10.0.19045.2965 and v1.2.3", "version 10.0.19045.2965 and v1.2.3"},
		{"server 192.168.100.200", "server 192.168.100.200"},
		{"between 1000-2000 users", "between 1000-2000 users"},
		{"a population of 10 000 000", "a population of 10 000 000"},
		{"only 1234567 left", "only 1234567 left"},
		{"weight 1234567kg, 99.5%", "weight 1234567kg, 99.5%"},
		{"4111 1111 1111 1112 is not a card", "4111 1111 1111 1112 is not a card"},
		{"DE00 3704 0044 0532 0130 00", "DE00 3704 0044 0532 0130 00"},
		{"", ""},
		{"no digits at all", "no digits at all"},
	}
	for _, tt := range tests {
		if got := ingest.MaskPII(tt.in); got != tt.want {
			t.Errorf("MaskPII(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}
