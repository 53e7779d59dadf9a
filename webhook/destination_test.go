package webhook_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/webhook"
)

func TestDestinationPolicyAddresses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		kind string // why it is refused; "" when allowed
	}{
		{"93.184.216.34", ""},
		{"8.8.8.8", ""},
		{"2606:4700:4700::1111", ""},
		{"::ffff:93.184.216.34", ""},
		{"172.32.0.1", ""},      // just past 172.16.0.0/12
		{"100.63.255.255", ""},  // just before 100.64.0.0/10
		{"100.128.0.0", ""},     // just past it
		{"169.253.255.255", ""}, // just before 169.254.0.0/16
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"::1", "loopback"},
		{"10.0.0.1", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"fc00::1", "private"},
		{"fd12:3456:789a::1", "private"},
		{"169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"100.127.255.255", "carrier-grade NAT"},
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:10.1.2.3", "private"},
		{"::ffff:169.254.169.254", "link-local"},
		{"::ffff:100.64.0.1", "carrier-grade NAT"},
		{"::ffff:0.0.0.0", "unspecified"},
		{"0.1.2.3", "reserved"},
		{"192.0.0.8", "reserved"},
		{"198.18.0.1", "reserved"},
		{"198.19.255.255", "reserved"},
		{"198.20.0.1", ""}, // just past 198.18.0.0/15
		{"203.0.113.7", "reserved"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.255", "reserved"},
		{"2001:db8::1", "reserved"},
		{"64:ff9b::a00:1", "private"},        // NAT64 of 10.0.0.1
		{"64:ff9b::a9fe:a9fe", "link-local"}, // NAT64 of 169.254.169.254
		{"64:ff9b::5db8:d822", ""},           // NAT64 of 93.184.216.34
		{"2002:7f00:1::1", "loopback"},       // 6to4 of 127.0.0.1
		{"2002:c0a8:101::1", "private"},      // 6to4 of 192.168.1.1
		{"2002:5db8:d822::1", ""},            // 6to4 of 93.184.216.34
	}
	strict, open := webhook.DestinationPolicy{}, webhook.DestinationPolicy{AllowPrivate: true}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.addr)
		err := strict.CheckAddr(ip)
		switch {
		case tt.kind == "" && err != nil:
			t.Errorf("%s refused: %v", tt.addr, err)
		case tt.kind != "" && (err == nil || !strings.Contains(err.Error(), " "+tt.kind+" address")):
			t.Errorf("%s: %v, want it refused as %s", tt.addr, err, tt.kind)
		}
		if err := open.CheckAddr(ip); err != nil {
			t.Errorf("%s refused with AllowPrivate: %v", tt.addr, err)
		}
	}
	if err := strict.CheckAddr(netip.Addr{}); err == nil {
		t.Error("the zero address allowed")
	}
}

// URLs are checked without the network: IP literals, and names that
// resolve from the hosts file or not at all.
func TestDestinationPolicyURLs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		url  string
		want string // in the refusal; "" when allowed
	}{
		{"https://93.184.216.34/hook", ""},
		{"http://[2606:4700:4700::1111]:8080/hook", ""},
		{"http://127.0.0.1/hook", "127.0.0.1 is a loopback address"},
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"},
		{"http://[::1]:9000/hook", "::1 is a loopback address"},
		{"http://[::ffff:10.0.0.1]/hook", "10.0.0.1 is a private address"},
		{"http://[fe80::1%25eth0]/hook", "is a link-local address"},
		{"http://localhost:8080/hook", `host "localhost" resolves to`},
		{"https://nonexistent.invalid/hook", `host "nonexistent.invalid"`},
		{"ftp://93.184.216.34/hook", "must be an absolute http:// or https:// URL"},
	}
	for _, tt := range tests {
		err := webhook.DestinationPolicy{}.CheckURL(ctx, tt.url)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s refused: %v", tt.url, err)
		case tt.want != "" && (parley.ErrorCode(err) != parley.EInvalid || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want an invalid error saying %q", tt.url, err, tt.want)
		}
	}
	open := webhook.DestinationPolicy{AllowPrivate: true}
	for _, u := range []string{"http://127.0.0.1/hook", "http://localhost/hook", "https://nonexistent.invalid/hook"} {
		if err := open.CheckURL(ctx, u); err != nil {
			t.Errorf("%s refused with AllowPrivate: %v", u, err)
		}
	}
	if err := open.CheckURL(ctx, "https://user:pw@example.com/hook"); parley.ErrorCode(err) != parley.EInvalid {
		t.Errorf("userinfo with AllowPrivate: %v, want invalid", err)
	}
}
